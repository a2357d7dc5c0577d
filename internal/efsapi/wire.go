package efsapi

// Wire shapes of the EFS API (PascalCase JSON members as in the service model).

type wireTag struct {
	Key   *string `json:"Key"`
	Value *string `json:"Value"`
}

type sizeInBytes struct {
	Value           int64 `json:"Value"`
	Timestamp       int64 `json:"Timestamp,omitempty"`
	ValueInIA       int64 `json:"ValueInIA"`
	ValueInStandard int64 `json:"ValueInStandard"`
	ValueInArchive  int64 `json:"ValueInArchive"`
}

type fileSystemDescription struct {
	OwnerID                      string        `json:"OwnerId"`
	CreationToken                string        `json:"CreationToken"`
	FileSystemID                 string        `json:"FileSystemId"`
	FileSystemArn                string        `json:"FileSystemArn"`
	CreationTime                 int64         `json:"CreationTime"`
	LifeCycleState               string        `json:"LifeCycleState"`
	Name                         string        `json:"Name,omitempty"`
	NumberOfMountTargets         int           `json:"NumberOfMountTargets"`
	SizeInBytes                  sizeInBytes   `json:"SizeInBytes"`
	PerformanceMode              string        `json:"PerformanceMode"`
	Encrypted                    bool          `json:"Encrypted"`
	KmsKeyID                     string        `json:"KmsKeyId,omitempty"`
	ThroughputMode               string        `json:"ThroughputMode"`
	ProvisionedThroughputInMibps *float64      `json:"ProvisionedThroughputInMibps,omitempty"`
	AvailabilityZoneName         string        `json:"AvailabilityZoneName,omitempty"`
	Tags                         []tagOut      `json:"Tags"`
	FileSystemProtection         protectionOut `json:"FileSystemProtection"`
}

type protectionOut struct {
	ReplicationOverwriteProtection string `json:"ReplicationOverwriteProtection"`
}

type tagOut struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type posixUser struct {
	UID           *int64  `json:"Uid"`
	GID           *int64  `json:"Gid"`
	SecondaryGIDs []int64 `json:"SecondaryGids,omitempty"`
}

type creationInfo struct {
	OwnerUID    *int64  `json:"OwnerUid"`
	OwnerGID    *int64  `json:"OwnerGid"`
	Permissions *string `json:"Permissions"`
}

type rootDirectory struct {
	Path         *string       `json:"Path,omitempty"`
	CreationInfo *creationInfo `json:"CreationInfo,omitempty"`
}

type accessPointDescription struct {
	ClientToken    string         `json:"ClientToken"`
	Name           string         `json:"Name,omitempty"`
	Tags           []tagOut       `json:"Tags"`
	AccessPointID  string         `json:"AccessPointId"`
	AccessPointArn string         `json:"AccessPointArn"`
	FileSystemID   string         `json:"FileSystemId"`
	PosixUser      *posixUser     `json:"PosixUser,omitempty"`
	RootDirectory  *rootDirectory `json:"RootDirectory"`
	OwnerID        string         `json:"OwnerId"`
	LifeCycleState string         `json:"LifeCycleState"`
}

type mountTargetDescription struct {
	OwnerID              string `json:"OwnerId"`
	MountTargetID        string `json:"MountTargetId"`
	FileSystemID         string `json:"FileSystemId"`
	SubnetID             string `json:"SubnetId"`
	LifeCycleState       string `json:"LifeCycleState"`
	IPAddress            string `json:"IpAddress"`
	NetworkInterfaceID   string `json:"NetworkInterfaceId"`
	AvailabilityZoneID   string `json:"AvailabilityZoneId"`
	AvailabilityZoneName string `json:"AvailabilityZoneName"`
	VpcID                string `json:"VpcId"`
}
