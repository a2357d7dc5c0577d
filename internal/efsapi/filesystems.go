package efsapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"tarn.dev/tarn/internal/awsapi"
	"tarn.dev/tarn/internal/store"
)

type createFileSystemInput struct {
	CreationToken                *string   `json:"CreationToken"`
	PerformanceMode              *string   `json:"PerformanceMode"`
	Encrypted                    *bool     `json:"Encrypted"`
	KmsKeyID                     *string   `json:"KmsKeyId"`
	ThroughputMode               *string   `json:"ThroughputMode"`
	ProvisionedThroughputInMibps *float64  `json:"ProvisionedThroughputInMibps"`
	AvailabilityZoneName         *string   `json:"AvailabilityZoneName"`
	Backup                       *bool     `json:"Backup"`
	Tags                         []wireTag `json:"Tags"`
}

const maxProvisionedMibps = 3414

var (
	performanceModes = []string{"generalPurpose", "maxIO"}
	throughputModes  = []string{"bursting", "provisioned", "elastic"}
)

// checkThroughput validates a throughput mode with its provisioned figure.
func checkThroughput(mode string, mibps *float64) error {
	if err := awsapi.CheckEnum(mode, "throughputMode", throughputModes...); err != nil {
		return err
	}
	if mode == "provisioned" {
		if mibps == nil {
			return awsapi.Errorf(http.StatusBadRequest, "BadRequest",
				"ProvisionedThroughputInMibps is required when ThroughputMode is provisioned")
		}
		if *mibps < 1 || *mibps > maxProvisionedMibps {
			return awsapi.Errorf(http.StatusBadRequest, "BadRequest",
				"ProvisionedThroughputInMibps %g is out of range: it must be between 1 and %d", *mibps, maxProvisionedMibps)
		}
	} else if mibps != nil {
		return awsapi.Errorf(http.StatusBadRequest, "BadRequest",
			"ProvisionedThroughputInMibps can only be set when ThroughputMode is provisioned, not %s", mode)
	}
	return nil
}

func (a *API) createFileSystem(r *http.Request) (int, any, error) {
	var in createFileSystemInput
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if in.CreationToken == nil {
		return 0, nil, awsapi.Required("creationToken")
	}
	if err := awsapi.CheckLength(*in.CreationToken, "creationToken", 1, 64); err != nil {
		return 0, nil, err
	}
	f := store.FileSystem{
		ID:              newID("fs-"),
		CreationToken:   *in.CreationToken,
		PerformanceMode: "generalPurpose",
		ThroughputMode:  "bursting",
		State:           store.StateCreating,
		Created:         a.cfg.Now(),
	}
	if in.PerformanceMode != nil {
		if err := awsapi.CheckEnum(*in.PerformanceMode, "performanceMode", performanceModes...); err != nil {
			return 0, nil, err
		}
		f.PerformanceMode = *in.PerformanceMode
	}
	if in.ThroughputMode != nil {
		f.ThroughputMode = *in.ThroughputMode
	}
	if err := checkThroughput(f.ThroughputMode, in.ProvisionedThroughputInMibps); err != nil {
		return 0, nil, err
	}
	if in.ProvisionedThroughputInMibps != nil {
		f.ProvisionedThroughputMibps = *in.ProvisionedThroughputInMibps
	}
	if f.PerformanceMode == "maxIO" && f.ThroughputMode == "elastic" {
		return 0, nil, awsapi.Errorf(http.StatusBadRequest, "BadRequest", "PerformanceMode maxIO is not supported with ThroughputMode elastic")
	}
	if in.Encrypted != nil {
		f.Encrypted = *in.Encrypted
	}
	if in.KmsKeyID != nil {
		if !f.Encrypted {
			return 0, nil, awsapi.Errorf(http.StatusBadRequest, "BadRequest", "KmsKeyId can only be given when Encrypted is true")
		}
		if err := awsapi.CheckLength(*in.KmsKeyID, "kmsKeyId", 1, 2048); err != nil {
			return 0, nil, err
		}
		f.KMSKeyID = *in.KmsKeyID
	} else if f.Encrypted {
		f.KMSKeyID = "arn:aws:kms:" + a.cfg.Region + ":" + a.cfg.AccountID + ":alias/aws/elasticfilesystem"
	}
	if in.AvailabilityZoneName != nil {
		if *in.AvailabilityZoneName != a.availabilityZone() {
			return 0, nil, awsapi.Errorf(http.StatusBadRequest, "BadRequest",
				"AvailabilityZoneName %q does not exist: this region has %s", *in.AvailabilityZoneName, a.availabilityZone())
		}
		f.AvailabilityZoneName = *in.AvailabilityZoneName
	}
	tags, err := checkTags(in.Tags, "tags")
	if err != nil {
		return 0, nil, err
	}
	f.Name = nameTag(tags)
	if n, err := a.cfg.Store.CountFileSystems(r.Context()); err != nil {
		return 0, nil, err
	} else if n >= MaxFileSystems {
		return 0, nil, awsapi.Errorf(http.StatusForbidden, "FileSystemLimitExceeded",
			"this account already has %d file systems, the most allowed", MaxFileSystems)
	}
	if err := a.cfg.Store.CreateFileSystem(r.Context(), f, tags); err != nil {
		var ee *store.ExistsError
		if errors.As(err, &ee) {
			return 0, nil, awsapi.Errorf(http.StatusConflict, "FileSystemAlreadyExists",
				"creation token %q is already used by file system %s", f.CreationToken, ee.ID).With("FileSystemId", ee.ID)
		}
		return 0, nil, err
	}
	// The response shows the record as created; provisioning then makes it available.
	created := f
	if err := a.provision(r, f.ID); err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, a.describe(created, tags), nil
}

// provision creates the data side of a new file system and marks it available.
func (a *API) provision(r *http.Request, fsID string) error {
	if a.cfg.Provisioner != nil {
		if err := a.cfg.Provisioner.ProvisionFileSystem(r.Context(), fsID); err != nil {
			a.cfg.Store.UpdateFileSystem(r.Context(), fsID, func(f *store.FileSystem) error { f.State = "error"; return nil })
			return err
		}
	}
	_, err := a.cfg.Store.UpdateFileSystem(r.Context(), fsID, func(f *store.FileSystem) error {
		f.State = store.StateAvailable
		return nil
	})
	return err
}

func (a *API) describe(f store.FileSystem, tags []store.Tag) fileSystemDescription {
	size := int64(newFileSystemSize)
	if a.cfg.Usage != nil {
		if n, ok := a.cfg.Usage(f.ID); ok {
			size = n
		}
	}
	d := fileSystemDescription{
		OwnerID:              a.cfg.AccountID,
		CreationToken:        f.CreationToken,
		FileSystemID:         f.ID,
		FileSystemArn:        a.arn("file-system", f.ID),
		CreationTime:         f.Created.Unix(),
		LifeCycleState:       f.State,
		Name:                 f.Name,
		NumberOfMountTargets: f.MountTargets,
		SizeInBytes:          sizeInBytes{Value: size, ValueInStandard: size, Timestamp: a.cfg.Now().Unix()},
		PerformanceMode:      f.PerformanceMode,
		Encrypted:            f.Encrypted,
		KmsKeyID:             f.KMSKeyID,
		ThroughputMode:       f.ThroughputMode,
		AvailabilityZoneName: f.AvailabilityZoneName,
		Tags:                 tagsOut(tags),
		FileSystemProtection: protectionOut{ReplicationOverwriteProtection: "ENABLED"},
	}
	if f.ThroughputMode == "provisioned" {
		v := f.ProvisionedThroughputMibps
		d.ProvisionedThroughputInMibps = &v
	}
	return d
}

func (a *API) describeWithTags(r *http.Request, f store.FileSystem) (fileSystemDescription, error) {
	tags, err := a.cfg.Store.Tags(r.Context(), f.ID)
	if err != nil {
		return fileSystemDescription{}, err
	}
	return a.describe(f, tags), nil
}

func (a *API) describeFileSystems(r *http.Request) (int, any, error) {
	q := r.URL.Query()
	size, after, err := page(r, "MaxItems", "Marker", 100)
	if err != nil {
		return 0, nil, err
	}
	var list []store.FileSystem
	switch id, token := q.Get("FileSystemId"), q.Get("CreationToken"); {
	case id != "" && token != "":
		return 0, nil, awsapi.Errorf(http.StatusBadRequest, "BadRequest", "give FileSystemId or CreationToken, not both")
	case id != "":
		f, err := a.lookupFileSystem(r.Context(), id)
		if err != nil {
			return 0, nil, err
		}
		list = []store.FileSystem{f}
	case token != "":
		if err := awsapi.CheckLength(token, "creationToken", 1, 64); err != nil {
			return 0, nil, err
		}
		f, err := a.cfg.Store.FileSystemByToken(r.Context(), token)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return 0, nil, err
		}
		if err == nil {
			list = []store.FileSystem{f}
		}
	default:
		list, err = a.cfg.Store.FileSystems(r.Context(), after, size+1)
		if err != nil {
			return 0, nil, err
		}
	}
	out := struct {
		Marker      string                  `json:"Marker,omitempty"`
		FileSystems []fileSystemDescription `json:"FileSystems"`
		NextMarker  string                  `json:"NextMarker,omitempty"`
	}{Marker: q.Get("Marker"), FileSystems: []fileSystemDescription{}}
	if len(list) > size {
		list = list[:size]
		out.NextMarker = nextToken(list[size-1].ID)
	}
	ids := make([]string, len(list))
	for i, f := range list {
		ids[i] = f.ID
	}
	tags, err := a.cfg.Store.TagsOf(r.Context(), ids)
	if err != nil {
		return 0, nil, err
	}
	for _, f := range list {
		out.FileSystems = append(out.FileSystems, a.describe(f, tags[f.ID]))
	}
	return http.StatusOK, out, nil
}

// lookupFileSystem checks a FileSystemId (id or ARN) a call filters on and
// returns that file system.
func (a *API) lookupFileSystem(ctx context.Context, id string) (store.FileSystem, error) {
	if err := awsapi.CheckPattern(id, "fileSystemId", fileSystemIDPattern); err != nil {
		return store.FileSystem{}, err
	}
	f, err := a.cfg.Store.FileSystem(ctx, a.localID(id))
	if err != nil {
		return store.FileSystem{}, notFound(err, "FileSystemNotFound", "file system "+id)
	}
	return f, nil
}

func (a *API) fileSystemID(r *http.Request) (string, error) {
	id := r.PathValue("FileSystemId")
	if err := awsapi.CheckPattern(id, "fileSystemId", fileSystemIDPattern); err != nil {
		return "", err
	}
	return a.localID(id), nil
}

func (a *API) updateFileSystem(r *http.Request) (int, any, error) {
	id, err := a.fileSystemID(r)
	if err != nil {
		return 0, nil, err
	}
	var in struct {
		ThroughputMode               *string  `json:"ThroughputMode"`
		ProvisionedThroughputInMibps *float64 `json:"ProvisionedThroughputInMibps"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	now := a.cfg.Now()
	f, err := a.cfg.Store.UpdateFileSystem(r.Context(), id, func(f *store.FileSystem) error {
		if f.State != store.StateAvailable {
			return awsapi.Errorf(http.StatusConflict, "IncorrectFileSystemLifeCycleState",
				"file system %s is %s, not available", id, f.State)
		}
		mode := f.ThroughputMode
		if in.ThroughputMode != nil {
			mode = *in.ThroughputMode
		}
		mibps := in.ProvisionedThroughputInMibps
		if mode == "provisioned" && mibps == nil && f.ThroughputMode == "provisioned" {
			v := f.ProvisionedThroughputMibps
			mibps = &v
		}
		if err := checkThroughput(mode, mibps); err != nil {
			return err
		}
		var newMibps float64
		if mibps != nil {
			newMibps = *mibps
		}
		limited := mode != f.ThroughputMode || (mode == "provisioned" && newMibps < f.ProvisionedThroughputMibps)
		if limited {
			if since := now.Sub(f.ThroughputLimitedAt); !f.ThroughputLimitedAt.IsZero() && since < throughputChangeQuietPeriod {
				return awsapi.Errorf(http.StatusTooManyRequests, "TooManyRequests",
					"the throughput mode of %s was switched or its provisioned throughput decreased %s ago; that is allowed once every 24 hours (next at %s)",
					id, since.Round(time.Second), f.ThroughputLimitedAt.Add(throughputChangeQuietPeriod).UTC().Format(time.RFC3339))
			}
			f.ThroughputLimitedAt = now
		}
		f.ThroughputMode, f.ProvisionedThroughputMibps = mode, newMibps
		return nil
	})
	if err != nil {
		return 0, nil, notFound(err, "FileSystemNotFound", "file system "+id)
	}
	d, err := a.describeWithTags(r, f)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, d, nil
}

func (a *API) deleteFileSystem(r *http.Request) (int, any, error) {
	id, err := a.fileSystemID(r)
	if err != nil {
		return 0, nil, err
	}
	if _, err := a.cfg.Store.FileSystem(r.Context(), id); err != nil {
		return 0, nil, notFound(err, "FileSystemNotFound", "file system "+id)
	}
	if err := a.cfg.Store.DeleteFileSystem(r.Context(), id); err != nil {
		if errors.Is(err, store.ErrInUse) {
			return 0, nil, awsapi.Errorf(http.StatusConflict, "FileSystemInUse",
				"file system %s is in use: delete its mount targets and access points first (%v)", id, errors.Unwrap(err))
		}
		return 0, nil, notFound(err, "FileSystemNotFound", "file system "+id)
	}
	if a.cfg.Provisioner != nil {
		if err := a.cfg.Provisioner.DestroyFileSystem(r.Context(), id); err != nil {
			a.cfg.Log.Error("destroy file system data", "fs", id, "err", err)
		}
	}
	return http.StatusNoContent, nil, nil
}
