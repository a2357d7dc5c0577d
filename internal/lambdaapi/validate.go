package lambdaapi

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"tarn.dev/tarn/internal/awsapi"
	"tarn.dev/tarn/internal/runtimes"
)

// Patterns of the service model.
var (
	functionNamePattern = regexp.MustCompile(`^(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?$`)
	bareNamePattern     = regexp.MustCompile(`^[a-zA-Z0-9-_]+$`)
	qualifierPattern    = regexp.MustCompile(`^(|[a-zA-Z0-9$_-]+)$`)
	rolePattern         = regexp.MustCompile(`^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$`)
	handlerPattern      = regexp.MustCompile(`^[^\s]+$`)
	envKeyPattern       = regexp.MustCompile(`^[a-zA-Z]([a-zA-Z0-9_])+$`)
	accessPointPattern  = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:elasticfilesystem:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:access-point/fsap-[a-f0-9]{17}$`)
	mountPathPattern    = regexp.MustCompile(`^/mnt/[a-zA-Z0-9-_.]+$`)
	aliasNamePattern    = regexp.MustCompile(`^(?:[a-zA-Z0-9-_]+)$`)
	versionPattern      = regexp.MustCompile(`^(\$LATEST|[0-9]+)$`)
	statementIDPattern  = regexp.MustCompile(`^([a-zA-Z0-9-_.]+)$`)
	actionPattern       = regexp.MustCompile(`^(lambda:[*]|lambda:[a-zA-Z]+|[*])$`)
	principalPattern    = regexp.MustCompile(`^[^\s]+$`)
	subnetPattern       = regexp.MustCompile(`^subnet-[0-9a-z]+$`)
	securityGroupPat    = regexp.MustCompile(`^sg-[0-9a-z]+$`)
	digits              = regexp.MustCompile(`^[0-9]+$`)
	regexpDigits        = regexp.MustCompile(`^[0-9]+$`)
)

// aliasNameConstraint is how the model states the alias-name pattern (with
// a look-ahead, which Go's RE2 lacks: names of digits only are refused).
const aliasNameConstraint = "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)"

// target is a function reference from a request: a name and an optional
// qualifier (version, alias or $LATEST).
type target struct {
	name, qualifier string
}

// parseName parses the FunctionName member: a name, a partial ARN
// (123456789012:function:name) or a full ARN, each optionally ending in
// :qualifier. An ARN of another account or region names no function here.
func (a *API) parseName(v string) (target, error) {
	if v == "" {
		return target{}, awsapi.Required("functionName")
	}
	if err := awsapi.CheckLength(v, "functionName", 1, 170); err != nil {
		return target{}, err
	}
	if err := awsapi.CheckPattern(v, "functionName", functionNamePattern); err != nil {
		return target{}, err
	}
	parts := strings.Split(v, ":")
	var t target
	switch len(parts) {
	case 1:
		t.name = parts[0]
	case 2:
		t.name, t.qualifier = parts[0], parts[1]
	case 3, 4:
		if parts[0] != a.cfg.AccountID || parts[1] != "function" {
			return t, notFoundFunction(v)
		}
		t.name = parts[2]
		if len(parts) == 4 {
			t.qualifier = parts[3]
		}
	case 7, 8:
		if parts[3] != a.cfg.Region || parts[4] != a.cfg.AccountID || parts[5] != "function" {
			return t, notFoundFunction(v)
		}
		t.name = parts[6]
		if len(parts) == 8 {
			t.qualifier = parts[7]
		}
	default:
		return t, awsapi.CheckPattern(v+"\x00", "functionName", functionNamePattern)
	}
	if err := awsapi.CheckLength(t.name, "functionName", 1, 64); err != nil {
		return t, err
	}
	if !bareNamePattern.MatchString(t.name) {
		return t, invalid("Function name %s is not valid: it must contain only letters, numbers, hyphens and underscores", t.name)
	}
	return t, nil
}

// target returns the function and qualifier a request names through its
// FunctionName path member and Qualifier query parameter.
func (a *API) target(r *http.Request) (target, error) {
	t, err := a.parseName(r.PathValue("FunctionName"))
	if err != nil {
		return t, err
	}
	if q := r.URL.Query().Get("Qualifier"); r.URL.Query().Has("Qualifier") {
		if err := awsapi.CheckLength(q, "qualifier", 1, 128); err != nil {
			return t, err
		}
		if err := awsapi.CheckPattern(q, "qualifier", qualifierPattern); err != nil {
			return t, err
		}
		if t.qualifier != "" && t.qualifier != q {
			return t, invalid("The derived qualifier from the function name does not match the specified qualifier.")
		}
		t.qualifier = q
	}
	return t, nil
}

// targetAndBody returns the function and qualifier a request names and
// decodes its JSON body into v.
func (a *API) targetAndBody(r *http.Request, v any) (target, error) {
	t, err := a.target(r)
	if err != nil {
		return t, err
	}
	return t, decode(r, v)
}

// checkEnvironment validates environment variables: key pattern, reserved
// keys and the 4 KB total.
func checkEnvironment(vars map[string]string) error {
	size := 0
	var reserved []string
	for k, v := range vars {
		if err := awsapi.CheckPattern(k, "environment.variables", envKeyPattern); err != nil {
			return awsapi.Validation("[SENSITIVE]", "environment.variables", "Member must satisfy regular expression pattern: "+envKeyPattern.String())
		}
		if runtimes.Reserved(k) {
			reserved = append(reserved, k)
		}
		size += len(k) + len(v)
	}
	if len(reserved) > 0 {
		slices.Sort(reserved)
		return invalid("Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: %s", strings.Join(reserved, ","))
	}
	if size > 4096 {
		return invalid("Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: %d bytes", size)
	}
	return nil
}

// parseVersion parses a published version number.
func parseVersion(q string) (int, bool) {
	if !digits.MatchString(q) || len(q) > 9 {
		return 0, false
	}
	n, err := strconv.Atoi(q)
	return n, err == nil && n > 0
}
