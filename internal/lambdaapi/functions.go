package lambdaapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"tarn.dev/tarn/internal/awsapi"
	"tarn.dev/tarn/internal/runtimes"
	"tarn.dev/tarn/internal/store"
)

// Function states and update statuses, as Lambda names them.
const (
	statePending       = "Pending"
	stateActive        = "Active"
	updateInProgress   = "InProgress"
	updateSuccessful   = "Successful"
	latest             = "$LATEST"
	msgPrecondition    = "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
	msgRuntimeRequired = "Runtime and Handler are mandatory parameters for functions created with deployment packages."
)

// deprecated lists runtimes Lambda no longer accepts for new functions or
// updates; anything else unknown is not a runtime at all.
var deprecated = map[string]bool{
	"python2.7": true, "python3.6": true, "python3.7": true, "nodejs": true, "nodejs4.3": true, "nodejs6.10": true,
	"nodejs8.10": true, "nodejs10.x": true, "nodejs12.x": true, "nodejs14.x": true, "nodejs16.x": true, "go1.x": true,
	"dotnetcore1.0": true, "dotnetcore2.0": true, "dotnetcore2.1": true, "dotnetcore3.1": true, "ruby2.5": true,
	"ruby2.7": true, "java8": true, "provided": true,
}

// checkDescription checks the length of a Description member.
func checkDescription(d string) error {
	return awsapi.CheckLength(d, "description", 0, 256)
}

// checkArchitectures checks the Architectures member: at most one, of the
// two Lambda knows.
func checkArchitectures(archs []string) error {
	if len(archs) > 1 {
		return awsapi.Validation(strings.Join(archs, ","), "architectures", "Member must have length less than or equal to 1")
	}
	for _, arch := range archs {
		if err := awsapi.CheckEnum(arch, "architectures", "x86_64", "arm64"); err != nil {
			return err
		}
	}
	return nil
}

func checkRuntime(rt string) error {
	if _, err := runtimes.Lookup(rt); err == nil {
		return nil
	}
	if deprecated[rt] {
		return invalid("The runtime parameter of %s is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions.", rt)
	}
	return invalid("Value %s at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [%s] or be a valid ARN",
		rt, strings.Join(runtimes.IDs(), ", "))
}

// validateConfig checks the members of a configuration request against the
// model's constraints (ValidationException), before any semantic check.
func validateConfig(in *configRequest) error {
	if in.Role != nil {
		if err := awsapi.CheckLength(*in.Role, "role", 1, 2048); err != nil {
			return err
		}
		if err := awsapi.CheckPattern(*in.Role, "role", rolePattern); err != nil {
			return err
		}
	}
	if in.Handler != nil {
		if err := awsapi.CheckLength(*in.Handler, "handler", 0, 128); err != nil {
			return err
		}
		if err := awsapi.CheckPattern(*in.Handler, "handler", handlerPattern); err != nil {
			return err
		}
	}
	if in.Description != nil {
		if err := checkDescription(*in.Description); err != nil {
			return err
		}
	}
	if in.Timeout != nil {
		if err := awsapi.CheckRange(*in.Timeout, "timeout", 1, 900); err != nil {
			return err
		}
	}
	if in.MemorySize != nil {
		if err := awsapi.CheckRange(*in.MemorySize, "memorySize", 128, 10240); err != nil {
			return err
		}
	}
	if in.EphemeralStorage != nil {
		if in.EphemeralStorage.Size == nil {
			return awsapi.Required("ephemeralStorage.size")
		}
		if err := awsapi.CheckRange(*in.EphemeralStorage.Size, "ephemeralStorage.size", 512, 10240); err != nil {
			return err
		}
	}
	if in.PackageType != nil {
		if err := awsapi.CheckEnum(*in.PackageType, "packageType", "Zip", "Image"); err != nil {
			return err
		}
	}
	if err := checkArchitectures(in.Architectures); err != nil {
		return err
	}
	if v := in.VpcConfig; v != nil {
		if len(v.SubnetIDs) > 16 {
			return awsapi.Validation(strings.Join(v.SubnetIDs, ","), "vpcConfig.subnetIds", "Member must have length less than or equal to 16")
		}
		if len(v.SecurityGroupIDs) > 5 {
			return awsapi.Validation(strings.Join(v.SecurityGroupIDs, ","), "vpcConfig.securityGroupIds", "Member must have length less than or equal to 5")
		}
	}
	if in.FileSystemConfigs != nil {
		fcs := *in.FileSystemConfigs
		if len(fcs) > 1 {
			return awsapi.Validation(len(fcs), "fileSystemConfigs", "Member must have length less than or equal to 1")
		}
		for i, fc := range fcs {
			f := "fileSystemConfigs." + strconv.Itoa(i+1) + ".member."
			if fc.Arn == nil {
				return awsapi.Required(f + "arn")
			}
			if fc.LocalMountPath == nil {
				return awsapi.Required(f + "localMountPath")
			}
			if err := awsapi.CheckLength(*fc.Arn, f+"arn", 0, 200); err != nil {
				return err
			}
			if err := awsapi.CheckPattern(*fc.Arn, f+"arn", accessPointPattern); err != nil {
				return err
			}
			if err := awsapi.CheckLength(*fc.LocalMountPath, f+"localMountPath", 0, 160); err != nil {
				return err
			}
			if err := awsapi.CheckPattern(*fc.LocalMountPath, f+"localMountPath", mountPathPattern); err != nil {
				return err
			}
		}
	}
	if in.TracingConfig != nil && in.TracingConfig.Mode != "" {
		if err := awsapi.CheckEnum(in.TracingConfig.Mode, "tracingConfig.mode", "Active", "PassThrough"); err != nil {
			return err
		}
	}
	return nil
}

// applyConfig checks the semantics of a validated configuration request and
// applies its members to c.
func (a *API) applyConfig(ctx context.Context, c *functionConfig, in *configRequest) error {
	if in.Runtime != nil {
		if err := checkRuntime(*in.Runtime); err != nil {
			return err
		}
		c.Runtime = *in.Runtime
	}
	if in.Role != nil {
		c.Role = *in.Role
	}
	if in.Handler != nil {
		c.Handler = *in.Handler
	}
	if in.Description != nil {
		c.Description = *in.Description
	}
	if in.Timeout != nil {
		c.Timeout = int(*in.Timeout)
	}
	if in.MemorySize != nil {
		c.MemorySize = int(*in.MemorySize)
	}
	if in.EphemeralStorage != nil {
		c.EphemeralStorage.Size = int(*in.EphemeralStorage.Size)
	}
	if len(in.Architectures) == 1 {
		c.Architectures = in.Architectures
	}
	if in.TracingConfig != nil && in.TracingConfig.Mode != "" {
		c.TracingConfig.Mode = in.TracingConfig.Mode
	}
	if in.Environment != nil {
		if err := checkEnvironment(in.Environment.Variables); err != nil {
			return err
		}
		c.Environment = &environment{Variables: in.Environment.Variables}
		if c.Environment.Variables == nil {
			c.Environment.Variables = map[string]string{}
		}
	}
	if v := in.VpcConfig; v != nil {
		for _, s := range v.SubnetIDs {
			if !subnetPattern.MatchString(s) {
				return invalid("Error occurred while DescribeSubnets. EC2 Error Code: InvalidSubnetID.NotFound. EC2 Error Message: The subnet ID '%s' does not exist", s)
			}
		}
		for _, s := range v.SecurityGroupIDs {
			if !securityGroupPat.MatchString(s) {
				return invalid("Error occurred while DescribeSecurityGroups. EC2 Error Code: InvalidGroup.NotFound. EC2 Error Message: The security group '%s' does not exist", s)
			}
		}
		c.VpcConfig = &vpcConfig{SubnetIDs: nonNil(v.SubnetIDs), SecurityGroupIDs: nonNil(v.SecurityGroupIDs),
			Ipv6AllowedForDualStack: v.Ipv6AllowedForDualStack}
		if len(v.SubnetIDs) > 0 {
			c.VpcConfig.VpcID = "vpc-tarn"
		}
	}
	if in.FileSystemConfigs != nil {
		c.FileSystemConfigs = nil
		for _, fc := range *in.FileSystemConfigs {
			c.FileSystemConfigs = append(c.FileSystemConfigs, fileSystemConfig{Arn: *fc.Arn, LocalMountPath: *fc.LocalMountPath})
		}
		if err := a.checkFileSystems(ctx, c.FileSystemConfigs); err != nil {
			return err
		}
	}
	if in.Role != nil || in.FileSystemConfigs != nil {
		if err := a.checkRole(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ErrRoleNotAssumable is what a CheckRole implementation wraps when the role
// does not exist or does not trust lambda.amazonaws.com.
var ErrRoleNotAssumable = errors.New("role cannot be assumed by lambda.amazonaws.com")

// checkRole asks the configured CheckRole whether the function's role may
// run it and mount its file systems.
func (a *API) checkRole(ctx context.Context, c *functionConfig) error {
	if a.cfg.CheckRole == nil {
		return nil
	}
	var aps []string
	for _, fc := range c.FileSystemConfigs {
		aps = append(aps, fc.Arn)
	}
	err := a.cfg.CheckRole(ctx, c.Role, aps)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrRoleNotAssumable):
		return invalid("The role defined for the function cannot be assumed by Lambda.")
	case errors.As(err, new(*awsapi.Error)):
		return err
	}
	a.cfg.Log.Info("execution role refused", "role", c.Role, "function", c.FunctionName, "err", err)
	return invalid("The provided execution role does not have permissions to call ClientMount on EFS")
}

// checkFileSystems checks that each access point exists in this account and
// region and that it and its file system (with every mount target) are
// available.
func (a *API) checkFileSystems(ctx context.Context, fcs []fileSystemConfig) error {
	for _, fc := range fcs {
		parts := strings.SplitN(fc.Arn, ":", 6)
		if parts[3] != a.cfg.Region || parts[4] != a.cfg.AccountID {
			return invalid("The access point %s is not in the function's account and Region.", fc.Arn)
		}
		apID := fc.Arn[strings.LastIndexByte(fc.Arn, '/')+1:]
		ap, err := a.cfg.Store.AccessPoint(ctx, apID)
		if errors.Is(err, store.ErrNotFound) {
			return invalid("EFS access point %s not found.", fc.Arn)
		}
		if err != nil {
			return err
		}
		fsArn := "arn:aws:elasticfilesystem:" + a.cfg.Region + ":" + a.cfg.AccountID + ":file-system/" + ap.FileSystemID
		if ap.State != store.StateAvailable {
			return invalid("EFS access point %s is not in the available life cycle state yet.", fc.Arn)
		}
		f, err := a.cfg.Store.FileSystem(ctx, ap.FileSystemID)
		if errors.Is(err, store.ErrNotFound) {
			return invalid("EFS file system %s referenced by access point %s does not exist.", fsArn, fc.Arn)
		}
		if err != nil {
			return err
		}
		if f.State != store.StateAvailable {
			return invalid("EFS file system %s referenced by access point %s is not in the available life cycle state yet. Its state is %s.", fsArn, fc.Arn, f.State)
		}
		mts, err := a.cfg.Store.MountTargets(ctx, ap.FileSystemID, "", 1000)
		if err != nil {
			return err
		}
		for _, mt := range mts {
			if mt.State != store.StateAvailable {
				return invalid("EFS file system %s referenced by access point %s has mount targets created in all availability zones the function will execute in, but not all are in the available life cycle state yet. Please wait for them to become available and try the request again.", fsArn, fc.Arn)
			}
		}
	}
	return nil
}

func (a *API) createFunction(r *http.Request) (int, any, error) {
	var in configRequest
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	ctx := r.Context()
	if in.FunctionName == nil {
		return 0, nil, awsapi.Required("functionName")
	}
	t, err := a.parseName(*in.FunctionName)
	if err != nil {
		return 0, nil, err
	}
	if in.Role == nil {
		return 0, nil, awsapi.Required("role")
	}
	if in.Code == nil {
		return 0, nil, awsapi.Required("code")
	}
	if err := validateConfig(&in); err != nil {
		return 0, nil, err
	}
	if t.qualifier != "" {
		return 0, nil, invalid("Unsupported parameter: functions are created unqualified; %s names a version or alias", *in.FunctionName)
	}
	if in.PackageType != nil && *in.PackageType == "Image" || in.Code.ImageURI != nil {
		return 0, nil, invalid("Tarn runs Zip deployment packages only; PackageType Image is not supported.")
	}
	if len(in.Code.ZipFile) == 0 {
		if in.Code.S3Bucket != nil {
			return 0, nil, invalid("Tarn takes deployment packages as Code.ZipFile; S3Bucket and S3Key are not supported.")
		}
		return 0, nil, invalid("Please provide a source for function code.")
	}
	if in.Runtime == nil || in.Handler == nil || *in.Handler == "" {
		return 0, nil, invalid("%s", msgRuntimeRequired)
	}
	now := a.now()
	c := functionConfig{
		FunctionName:     t.name,
		FunctionArn:      a.functionARN(t.name, ""),
		Timeout:          3,
		MemorySize:       128,
		Version:          latest,
		TracingConfig:    tracingConfig{Mode: "PassThrough"},
		RevisionID:       uuid.NewString(),
		PackageType:      "Zip",
		Architectures:    []string{"x86_64"},
		EphemeralStorage: ephemeralStorage{Size: 512},
		LoggingConfig:    loggingConfig{LogFormat: "Text", LogGroup: "/aws/lambda/" + t.name},
		LastModified:     timestamp(now),
		State:            stateActive,
		LastUpdateStatus: updateSuccessful,
	}
	if err := a.applyConfig(ctx, &c, &in); err != nil {
		return 0, nil, err
	}
	if len(c.FileSystemConfigs) > 0 {
		c.State, c.StateReason, c.StateReasonCode = statePending, "The function is being created.", "Creating"
		c.LastUpdateStatus = updateInProgress
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := a.cfg.Store.Function(ctx, t.name); err == nil {
		return 0, nil, conflict("Function already exist: %s", t.name)
	}
	if c.CodeSha256, c.CodeSize, err = a.installCode(t.name, in.Code.ZipFile, "CreateFunction"); err != nil {
		return 0, nil, err
	}
	rec := functionRecord{Config: c, Tags: in.Tags}
	doc, _ := json.Marshal(rec)
	err = a.cfg.Store.CreateFunction(ctx, store.Function{Name: t.name, Config: doc, Created: now})
	if errors.As(err, new(*store.ExistsError)) {
		return 0, nil, conflict("Function already exist: %s", t.name)
	}
	if err != nil {
		return 0, nil, err
	}
	if c.State == statePending {
		a.settleLater(t.name)
	}
	if in.Publish && c.State == stateActive {
		v, err := a.publishLocked(ctx, t.name, "")
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, v, nil
	}
	return http.StatusCreated, c, nil
}

// loadFunction reads the record of a function, answering
// ResourceNotFoundException with arn when it does not exist.
func (a *API) loadFunction(ctx context.Context, name, arn string) (store.Function, functionRecord, error) {
	f, err := a.cfg.Store.Function(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return f, functionRecord{}, notFoundFunction(arn)
	}
	if err != nil {
		return f, functionRecord{}, err
	}
	var rec functionRecord
	if err := json.Unmarshal(f.Config, &rec); err != nil {
		return f, rec, err
	}
	return f, rec, nil
}

// putRecord stores the record of an existing function.
func (a *API) putRecord(ctx context.Context, name string, rec functionRecord) error {
	doc, _ := json.Marshal(rec)
	return a.cfg.Store.PutFunctionConfig(ctx, name, doc)
}

// loadLatest reads the record of a function named without a qualifier.
func (a *API) loadLatest(ctx context.Context, name string) (store.Function, functionRecord, error) {
	return a.loadFunction(ctx, name, a.functionARN(name, ""))
}

// resolved is a function reference resolved to the configuration it names.
type resolved struct {
	fn      store.Function
	rec     functionRecord
	config  functionConfig // of the version the qualifier names
	alias   *aliasConfig   // when the qualifier is an alias
	version string         // $LATEST or a number
}

// resolve loads the function and the version that t's qualifier names.
func (a *API) resolve(ctx context.Context, t target) (resolved, error) {
	var res resolved
	var err error
	res.fn, res.rec, err = a.loadFunction(ctx, t.name, a.functionARN(t.name, t.qualifier))
	if err != nil {
		return res, err
	}
	q := t.qualifier
	if q != "" && q != latest && !digits.MatchString(q) {
		al, err := a.cfg.Store.Alias(ctx, t.name, q)
		if errors.Is(err, store.ErrNotFound) {
			return res, notFoundFunction(a.functionARN(t.name, q))
		}
		if err != nil {
			return res, err
		}
		res.alias = new(aliasConfig)
		if err := json.Unmarshal(al.Config, res.alias); err != nil {
			return res, err
		}
		q = al.Version
	}
	if q == "" || q == latest {
		res.config, res.version = res.rec.Config, latest
		return res, nil
	}
	v, err := a.loadVersion(ctx, t.name, q)
	if err != nil {
		return res, err
	}
	if err := json.Unmarshal(v.Config, &res.config); err != nil {
		return res, err
	}
	res.version = q
	return res, nil
}

// loadVersion reads published version q of a function, answering
// ResourceNotFoundException when q names none.
func (a *API) loadVersion(ctx context.Context, name, q string) (store.FunctionVersion, error) {
	n, ok := parseVersion(q)
	if !ok {
		return store.FunctionVersion{}, notFoundFunction(a.functionARN(name, q))
	}
	v, err := a.cfg.Store.Version(ctx, name, n)
	if errors.Is(err, store.ErrNotFound) {
		return v, notFoundFunction(a.functionARN(name, q))
	}
	return v, err
}

// resolveRequest resolves the function and qualifier a request names.
func (a *API) resolveRequest(r *http.Request) (target, resolved, error) {
	t, err := a.target(r)
	if err != nil {
		return t, resolved{}, err
	}
	res, err := a.resolve(r.Context(), t)
	return t, res, err
}

func (a *API) getFunction(r *http.Request) (int, any, error) {
	_, res, err := a.resolveRequest(r)
	if err != nil {
		return 0, nil, err
	}
	out := getFunctionResponse{Configuration: res.config, Tags: res.rec.Tags,
		Code: codeLocation{RepositoryType: "S3", Location: ""}}
	if res.fn.Reserved != nil {
		out.Concurrency = &concurrency{ReservedConcurrentExecutions: res.fn.Reserved}
	}
	return http.StatusOK, out, nil
}

func (a *API) getFunctionConfiguration(r *http.Request) (int, any, error) {
	_, res, err := a.resolveRequest(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, res.config, nil
}

// mutable checks that $LATEST of a function may change now: it is Active,
// no update is in progress, and revision (when given) is current.
func mutable(c functionConfig, revision *string) error {
	if c.State != stateActive {
		return conflict("The operation cannot be performed at this time. The function is currently in the following state: %s", c.State)
	}
	if c.LastUpdateStatus == updateInProgress {
		return conflict("The operation cannot be performed at this time. An update is in progress for resource: %s", c.FunctionArn)
	}
	return checkRevision(revision, c.RevisionID)
}

// checkRevision answers PreconditionFailedException when a RevisionId was
// given and it is not the current one.
func checkRevision(given *string, current string) error {
	if given != nil && *given != current {
		return precondition()
	}
	return nil
}

// loadMutable loads the record of a function whose $LATEST is to change,
// checking that it may change now (see mutable).
func (a *API) loadMutable(ctx context.Context, name string, revision *string) (functionRecord, error) {
	_, rec, err := a.loadLatest(ctx, name)
	if err != nil {
		return rec, err
	}
	return rec, mutable(rec.Config, revision)
}

// unqualified answers requests that may only name $LATEST.
func unqualified(t target, op string) error {
	if t.qualifier != "" && t.qualifier != latest {
		return invalid("%s is not supported for qualified functions (only $LATEST may change)", op)
	}
	return nil
}

func (a *API) updateFunctionConfiguration(r *http.Request) (int, any, error) {
	var in configRequest
	t, err := a.targetAndBody(r, &in)
	if err != nil {
		return 0, nil, err
	}
	if err := validateConfig(&in); err != nil {
		return 0, nil, err
	}
	if err := unqualified(t, "UpdateFunctionConfiguration"); err != nil {
		return 0, nil, err
	}
	ctx := r.Context()
	a.mu.Lock()
	defer a.mu.Unlock()
	rec, err := a.loadMutable(ctx, t.name, in.RevisionID)
	if err != nil {
		return 0, nil, err
	}
	c := rec.Config
	if err := a.applyConfig(ctx, &c, &in); err != nil {
		return 0, nil, err
	}
	if c.Handler == "" {
		return 0, nil, invalid("%s", msgRuntimeRequired)
	}
	return a.commitUpdate(ctx, rec, c)
}

// commitUpdate stores a changed $LATEST configuration as an update in
// progress, retires the environments running the old one, and settles the
// update later.
func (a *API) commitUpdate(ctx context.Context, rec functionRecord, c functionConfig) (int, any, error) {
	c.RevisionID = uuid.NewString()
	c.LastModified = timestamp(a.now())
	c.LastUpdateStatus = updateInProgress
	c.LastUpdateStatusReason, c.LastUpdateStatusReasonCode = "", ""
	rec.Config = c
	if err := a.putRecord(ctx, c.FunctionName, rec); err != nil {
		return 0, nil, err
	}
	a.drain(c.FunctionName, latest)
	a.settleLater(c.FunctionName)
	return http.StatusOK, c, nil
}

func (a *API) updateFunctionCode(r *http.Request) (int, any, error) {
	var in codeRequest
	t, err := a.targetAndBody(r, &in)
	if err != nil {
		return 0, nil, err
	}
	if err := checkArchitectures(in.Architectures); err != nil {
		return 0, nil, err
	}
	if err := unqualified(t, "UpdateFunctionCode"); err != nil {
		return 0, nil, err
	}
	if in.ImageURI != nil {
		return 0, nil, invalid("Tarn runs Zip deployment packages only; ImageUri is not supported.")
	}
	if len(in.ZipFile) == 0 {
		if in.S3Bucket != nil {
			return 0, nil, invalid("Tarn takes deployment packages as ZipFile; S3Bucket and S3Key are not supported.")
		}
		return 0, nil, invalid("Please provide a source for function code.")
	}
	ctx := r.Context()
	a.mu.Lock()
	defer a.mu.Unlock()
	rec, err := a.loadMutable(ctx, t.name, in.RevisionID)
	if err != nil {
		return 0, nil, err
	}
	c := rec.Config
	if in.DryRun {
		sha := codeSha256(in.ZipFile)
		if int64(len(in.ZipFile)) > a.cfg.MaxZipBytes {
			return 0, nil, awsapi.Errorf(http.StatusRequestEntityTooLarge, "RequestEntityTooLargeException",
				"Request must be smaller than %d bytes for the UpdateFunctionCode operation", a.cfg.MaxZipBytes)
		}
		c.CodeSha256, c.CodeSize = sha, int64(len(in.ZipFile))
		return http.StatusOK, c, nil
	}
	if c.CodeSha256, c.CodeSize, err = a.installCode(t.name, in.ZipFile, "UpdateFunctionCode"); err != nil {
		return 0, nil, err
	}
	if len(in.Architectures) == 1 {
		c.Architectures = in.Architectures
	}
	status, out, err := a.commitUpdate(ctx, rec, c)
	if err != nil {
		return 0, nil, err
	}
	a.collectCode(ctx, t.name)
	if in.Publish {
		// Publishing waits for the update to settle on AWS; here the new
		// code is in place already, so the version is published at once.
		rec.Config = out.(functionConfig)
		rec.Config.LastUpdateStatus = updateSuccessful
		if err := a.putRecord(ctx, t.name, rec); err != nil {
			return 0, nil, err
		}
		v, err := a.publishLocked(ctx, t.name, "")
		if err != nil {
			return 0, nil, err
		}
		return status, v, nil
	}
	return status, out, nil
}

func (a *API) deleteFunction(r *http.Request) (int, any, error) {
	t, err := a.target(r)
	if err != nil {
		return 0, nil, err
	}
	ctx := r.Context()
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, _, err := a.loadLatest(ctx, t.name); err != nil {
		return 0, nil, err
	}
	switch {
	case t.qualifier == "":
		if err := a.cfg.Store.DeleteFunction(ctx, t.name); err != nil {
			return 0, nil, err
		}
		a.drain(t.name, "")
		if err := os.RemoveAll(filepath.Join(a.cfg.CodeRoot, t.name)); err != nil {
			a.cfg.Log.Warn("remove code of deleted function", "function", t.name, "err", err)
		}
		return http.StatusNoContent, nil, nil
	case t.qualifier == latest:
		return 0, nil, invalid("$LATEST version cannot be deleted without deleting the function.")
	}
	n, ok := parseVersion(t.qualifier)
	if !ok {
		return 0, nil, invalid("Deletion of aliases is not supported by DeleteFunction; use DeleteAlias for %s.", t.qualifier)
	}
	err = a.cfg.Store.DeleteVersion(ctx, t.name, n, func(aliases []store.Alias) []string {
		var refs []string
		for _, al := range aliases {
			var ac aliasConfig
			json.Unmarshal(al.Config, &ac)
			if al.Version == t.qualifier || ac.RoutingConfig != nil && ac.RoutingConfig.AdditionalVersionWeights[t.qualifier] > 0 {
				refs = append(refs, al.Alias)
			}
		}
		return refs
	})
	var de *store.DependentsError
	switch {
	case errors.As(err, &de):
		return 0, nil, conflict("Unable to delete version because the following aliases reference it: [%s]", de.Dependents)
	case errors.Is(err, store.ErrNotFound):
		return 0, nil, notFoundFunction(a.functionARN(t.name, t.qualifier))
	case err != nil:
		return 0, nil, err
	}
	a.drain(t.name, t.qualifier)
	a.collectCode(ctx, t.name)
	return http.StatusNoContent, nil, nil
}

// collectCode removes the unpacked packages of a function that neither
// $LATEST nor any version uses any more.
func (a *API) collectCode(ctx context.Context, name string) {
	_, rec, err := a.loadFunction(ctx, name, "")
	if err != nil {
		return
	}
	keep := map[string]bool{filepath.Base(a.codeDir(name, rec.Config.CodeSha256)): true}
	versions, err := a.cfg.Store.Versions(ctx, name)
	if err != nil {
		return
	}
	for _, v := range versions {
		var c functionConfig
		if json.Unmarshal(v.Config, &c) == nil {
			keep[filepath.Base(a.codeDir(name, c.CodeSha256))] = true
		}
	}
	dir := filepath.Join(a.cfg.CodeRoot, name)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !keep[e.Name()] && !strings.HasPrefix(e.Name(), ".") {
			os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
}

// drain asks the runner to retire environments of a function version.
func (a *API) drain(name, version string) {
	if a.cfg.Runner == nil {
		return
	}
	if err := a.cfg.Runner.Drain(a.ctx, name, version); err != nil {
		a.cfg.Log.Warn("drain environments", "function", name, "version", version, "err", err)
	}
}

func (a *API) listFunctions(r *http.Request) (int, any, error) {
	q := r.URL.Query()
	limit, err := maxItems(q)
	if err != nil {
		return 0, nil, err
	}
	all := false
	if v := q.Get("FunctionVersion"); q.Has("FunctionVersion") {
		if err := awsapi.CheckEnum(v, "functionVersion", "ALL"); err != nil {
			return 0, nil, err
		}
		all = true
	}
	start, err := parseMarker(q.Get("Marker"))
	if err != nil {
		return 0, nil, err
	}
	ctx := r.Context()
	fns, err := a.cfg.Store.Functions(ctx, "", 1<<30)
	if err != nil {
		return 0, nil, err
	}
	var items []functionConfig
	for _, f := range fns {
		var rec functionRecord
		if err := json.Unmarshal(f.Config, &rec); err != nil {
			return 0, nil, err
		}
		items = append(items, listItem(rec.Config))
		if all {
			vs, err := a.versionItems(ctx, f.Name)
			if err != nil {
				return 0, nil, err
			}
			items = append(items, vs...)
		}
	}
	return http.StatusOK, listPage("Functions", items, start, limit), nil
}

// versionItems returns the published versions of a function as listings
// show them.
func (a *API) versionItems(ctx context.Context, name string) ([]functionConfig, error) {
	vs, err := a.cfg.Store.Versions(ctx, name)
	if err != nil {
		return nil, err
	}
	items := make([]functionConfig, 0, len(vs))
	for _, v := range vs {
		var c functionConfig
		if err := json.Unmarshal(v.Config, &c); err != nil {
			return nil, err
		}
		items = append(items, listItem(c))
	}
	return items, nil
}

// listItem drops the members ListFunctions leaves out.
func listItem(c functionConfig) functionConfig {
	c.State, c.StateReason, c.StateReasonCode = "", "", ""
	c.LastUpdateStatus, c.LastUpdateStatusReason, c.LastUpdateStatusReasonCode = "", "", ""
	return c
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// maxItems reads the MaxItems query parameter: the page size, at most
// maxListItems.
func maxItems(q url.Values) (int, error) {
	s := q.Get("MaxItems")
	if s == "" {
		return maxListItems, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, awsapi.Validation(s, "maxItems", "Member must be an integer")
	}
	if err := awsapi.CheckRange(n, "maxItems", 1, 10000); err != nil {
		return 0, err
	}
	return int(min(n, maxListItems)), nil
}

// listParams reads Marker and MaxItems.
func listParams(r *http.Request) (start, limit int, err error) {
	q := r.URL.Query()
	if limit, err = maxItems(q); err != nil {
		return 0, 0, err
	}
	start, err = parseMarker(q.Get("Marker"))
	return start, limit, err
}

// Markers are offsets into the listing, base64-encoded.
func parseMarker(m string) (int, error) {
	if m == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(m)
	n, perr := strconv.Atoi(string(b))
	if err != nil || perr != nil || n < 0 {
		return 0, invalid("Invalid marker: %s", m)
	}
	return n, nil
}

func paginate[T any](items []T, start, limit int) ([]T, string) {
	if start >= len(items) {
		return nil, ""
	}
	end := min(len(items), start+limit)
	next := ""
	if end < len(items) {
		next = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
	}
	return items[start:end], next
}

// listPage renders the page of items from start under key, with the
// NextMarker of the page after it when there is one.
func listPage[T any](key string, items []T, start, limit int) map[string]any {
	page, next := paginate(items, start, limit)
	out := map[string]any{key: nonNilSlice(page)}
	if next != "" {
		out["NextMarker"] = next
	}
	return out
}
