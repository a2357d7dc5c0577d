package lambdaapi

// Wire shapes of the Lambda API (PascalCase JSON members as in the service
// model). functionConfig is also the document stored for $LATEST and for
// each published version.

type functionConfig struct {
	FunctionName               string             `json:"FunctionName"`
	FunctionArn                string             `json:"FunctionArn"`
	Runtime                    string             `json:"Runtime,omitempty"`
	Role                       string             `json:"Role"`
	Handler                    string             `json:"Handler,omitempty"`
	CodeSize                   int64              `json:"CodeSize"`
	Description                string             `json:"Description"`
	Timeout                    int                `json:"Timeout"`
	MemorySize                 int                `json:"MemorySize"`
	LastModified               string             `json:"LastModified"`
	CodeSha256                 string             `json:"CodeSha256"`
	Version                    string             `json:"Version"`
	VpcConfig                  *vpcConfig         `json:"VpcConfig,omitempty"`
	Environment                *environment       `json:"Environment,omitempty"`
	TracingConfig              tracingConfig      `json:"TracingConfig"`
	RevisionID                 string             `json:"RevisionId"`
	State                      string             `json:"State,omitempty"`
	StateReason                string             `json:"StateReason,omitempty"`
	StateReasonCode            string             `json:"StateReasonCode,omitempty"`
	LastUpdateStatus           string             `json:"LastUpdateStatus,omitempty"`
	LastUpdateStatusReason     string             `json:"LastUpdateStatusReason,omitempty"`
	LastUpdateStatusReasonCode string             `json:"LastUpdateStatusReasonCode,omitempty"`
	FileSystemConfigs          []fileSystemConfig `json:"FileSystemConfigs,omitempty"`
	PackageType                string             `json:"PackageType"`
	Architectures              []string           `json:"Architectures"`
	EphemeralStorage           ephemeralStorage   `json:"EphemeralStorage"`
	LoggingConfig              loggingConfig      `json:"LoggingConfig"`
}

type vpcConfig struct {
	SubnetIDs               []string `json:"SubnetIds"`
	SecurityGroupIDs        []string `json:"SecurityGroupIds"`
	VpcID                   string   `json:"VpcId,omitempty"`
	Ipv6AllowedForDualStack bool     `json:"Ipv6AllowedForDualStack"`
}

type environment struct {
	Variables map[string]string `json:"Variables"`
}

type tracingConfig struct {
	Mode string `json:"Mode"`
}

type fileSystemConfig struct {
	Arn            string `json:"Arn"`
	LocalMountPath string `json:"LocalMountPath"`
}

type ephemeralStorage struct {
	Size int `json:"Size"`
}

type loggingConfig struct {
	LogFormat string `json:"LogFormat"`
	LogGroup  string `json:"LogGroup"`
}

// functionRecord is the stored document of a function: its $LATEST
// configuration and its tags.
type functionRecord struct {
	Config functionConfig    `json:"Config"`
	Tags   map[string]string `json:"Tags,omitempty"`
}

// configRequest is the body of CreateFunction and
// UpdateFunctionConfiguration (pointers tell absent members from zero ones).
type configRequest struct {
	FunctionName      *string                `json:"FunctionName"`
	Runtime           *string                `json:"Runtime"`
	Role              *string                `json:"Role"`
	Handler           *string                `json:"Handler"`
	Code              *codeIn                `json:"Code"`
	Description       *string                `json:"Description"`
	Timeout           *int64                 `json:"Timeout"`
	MemorySize        *int64                 `json:"MemorySize"`
	Publish           bool                   `json:"Publish"`
	Environment       *environmentIn         `json:"Environment"`
	VpcConfig         *vpcIn                 `json:"VpcConfig"`
	FileSystemConfigs *[]fileSystemIn        `json:"FileSystemConfigs"`
	EphemeralStorage  *ephemeralIn           `json:"EphemeralStorage"`
	PackageType       *string                `json:"PackageType"`
	Architectures     []string               `json:"Architectures"`
	TracingConfig     *struct{ Mode string } `json:"TracingConfig"`
	Tags              map[string]string      `json:"Tags"`
	RevisionID        *string                `json:"RevisionId"`
}

type codeIn struct {
	ZipFile  []byte  `json:"ZipFile"` // base64 in JSON
	S3Bucket *string `json:"S3Bucket"`
	S3Key    *string `json:"S3Key"`
	ImageURI *string `json:"ImageUri"`
}

type environmentIn struct {
	Variables map[string]string `json:"Variables"`
}

type vpcIn struct {
	SubnetIDs               []string `json:"SubnetIds"`
	SecurityGroupIDs        []string `json:"SecurityGroupIds"`
	Ipv6AllowedForDualStack bool     `json:"Ipv6AllowedForDualStack"`
}

type fileSystemIn struct {
	Arn            *string `json:"Arn"`
	LocalMountPath *string `json:"LocalMountPath"`
}

type ephemeralIn struct {
	Size *int64 `json:"Size"`
}

type codeRequest struct {
	ZipFile       []byte   `json:"ZipFile"`
	S3Bucket      *string  `json:"S3Bucket"`
	ImageURI      *string  `json:"ImageUri"`
	Publish       bool     `json:"Publish"`
	DryRun        bool     `json:"DryRun"`
	RevisionID    *string  `json:"RevisionId"`
	Architectures []string `json:"Architectures"`
}

type getFunctionResponse struct {
	Configuration functionConfig    `json:"Configuration"`
	Code          codeLocation      `json:"Code"`
	Tags          map[string]string `json:"Tags,omitempty"`
	Concurrency   *concurrency      `json:"Concurrency,omitempty"`
}

type codeLocation struct {
	RepositoryType string `json:"RepositoryType"`
	Location       string `json:"Location"`
}

type concurrency struct {
	ReservedConcurrentExecutions *int `json:"ReservedConcurrentExecutions,omitempty"`
}

type aliasConfig struct {
	AliasArn        string         `json:"AliasArn"`
	Name            string         `json:"Name"`
	FunctionVersion string         `json:"FunctionVersion"`
	Description     string         `json:"Description"`
	RoutingConfig   *routingConfig `json:"RoutingConfig,omitempty"`
	RevisionID      string         `json:"RevisionId"`
}

type routingConfig struct {
	AdditionalVersionWeights map[string]float64 `json:"AdditionalVersionWeights"`
}

type aliasRequest struct {
	Name            *string        `json:"Name"`
	FunctionVersion *string        `json:"FunctionVersion"`
	Description     *string        `json:"Description"`
	RoutingConfig   *routingConfig `json:"RoutingConfig"`
	RevisionID      *string        `json:"RevisionId"`
}

type provisionedConfig struct {
	FunctionArn                              string `json:"FunctionArn,omitempty"`
	RequestedProvisionedConcurrentExecutions int    `json:"RequestedProvisionedConcurrentExecutions"`
	AvailableProvisionedConcurrentExecutions int    `json:"AvailableProvisionedConcurrentExecutions"`
	AllocatedProvisionedConcurrentExecutions int    `json:"AllocatedProvisionedConcurrentExecutions"`
	Status                                   string `json:"Status"`
	StatusReason                             string `json:"StatusReason,omitempty"`
	LastModified                             string `json:"LastModified"`
}
