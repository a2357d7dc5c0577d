//go:build !unix

package lambdaapi

const noFollow = 0
