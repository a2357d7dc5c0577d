//go:build unix

package lambdaapi

import "syscall"

const noFollow = syscall.O_NOFOLLOW
