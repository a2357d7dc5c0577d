package awsapi

import (
	"fmt"
	"regexp"
	"strings"
)

// The checks below report a member that violates a constraint of the
// service model with the ValidationException AWS sends for it.

// Required reports a missing member.
func Required(field string) *Error {
	return Validation("null", field, "Member must not be null")
}

// CheckLength checks that value has lo to hi characters.
func CheckLength(value, field string, lo, hi int) error {
	n := len([]rune(value))
	switch {
	case n < lo:
		return Validation(value, field, fmt.Sprintf("Member must have length greater than or equal to %d", lo))
	case n > hi:
		return Validation(value, field, fmt.Sprintf("Member must have length less than or equal to %d", hi))
	}
	return nil
}

// CheckPattern checks that value matches re.
func CheckPattern(value, field string, re *regexp.Regexp) error {
	if !re.MatchString(value) {
		return Validation(value, field, "Member must satisfy regular expression pattern: "+re.String())
	}
	return nil
}

// CheckRange checks that value is within lo to hi.
func CheckRange(value int64, field string, lo, hi int64) error {
	switch {
	case value < lo:
		return Validation(value, field, fmt.Sprintf("Member must have value greater than or equal to %d", lo))
	case value > hi:
		return Validation(value, field, fmt.Sprintf("Member must have value less than or equal to %d", hi))
	}
	return nil
}

// CheckEnum checks that value is one of allowed.
func CheckEnum(value, field string, allowed ...string) error {
	for _, a := range allowed {
		if value == a {
			return nil
		}
	}
	return Validation(value, field, "Member must satisfy enum value set: ["+strings.Join(allowed, ", ")+"]")
}
