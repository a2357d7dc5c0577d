package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/efs/types"
	"github.com/aws/smithy-go"

	"tarn.dev/tarn/internal/datadir"
)

// clientFlags are the flags every API command takes to find its server.
type clientFlags struct {
	data, endpoint, region string
	json                   bool
}

func (c *clientFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.data, "data", "", "data directory of a local server (default $TARN_DATA or ./.tarn)")
	fs.StringVar(&c.endpoint, "endpoint", "", "control API URL (default $TARN_ENDPOINT, else the local server's)")
	fs.StringVar(&c.region, "region", "", "region (default $AWS_REGION, else the server's)")
	fs.BoolVar(&c.json, "json", false, "print JSON instead of a table")
}

// awsConfig finds the endpoint and credentials: flags first, then the
// standard environment variables, then the local server's data directory.
func (c *clientFlags) awsConfig() (aws.Config, string, error) {
	dir := datadir.Dir{Path: c.data}
	if dir.Path == "" {
		dir.Path = datadir.Default()
	}
	endpoint, region := c.endpoint, c.region
	if endpoint == "" {
		endpoint = os.Getenv("TARN_ENDPOINT")
	}
	if region == "" {
		region = firstNonEmpty(os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION"))
	}
	if endpoint == "" || region == "" {
		info, err := dir.ReadServerInfo()
		if err != nil && endpoint == "" {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, datadir.ErrServerGone) {
				return aws.Config{}, "", fmt.Errorf("no running tarn server found in data directory %s: start one with 'tarn server --data %s', or give --endpoint", dir.Path, dir.Path)
			}
			return aws.Config{}, "", err
		}
		endpoint = firstNonEmpty(endpoint, info.Endpoint)
		region = firstNonEmpty(region, info.Region, "us-east-1")
	}
	id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if id == "" || secret == "" {
		creds, err := dir.ReadRootCredentials()
		if err != nil {
			return aws.Config{}, "", fmt.Errorf("no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run on the server's machine (%w)", err)
		}
		id, secret = creds.AccessKeyID, creds.SecretAccessKey
	}
	cfg := aws.Config{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider(id, secret, os.Getenv("AWS_SESSION_TOKEN")),
		RetryMaxAttempts: 2,
	}
	return cfg, endpoint, nil
}

func (c *clientFlags) efs() (*efs.Client, error) {
	cfg, endpoint, err := c.awsConfig()
	if err != nil {
		return nil, err
	}
	return efs.NewFromConfig(cfg, func(o *efs.Options) { o.BaseEndpoint = aws.String(endpoint) }), nil
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// describeError turns an API error into one line: the AWS code and message.
func describeError(err error) string {
	var te *tarnAPIError
	if errors.As(err, &te) {
		return err.Error()
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return fmt.Sprintf("%s: %s", ae.ErrorCode(), ae.ErrorMessage())
	}
	return err.Error()
}

// newFlags returns the flag set of command name with the client flags
// registered on it.
func newFlags(name string) (*flag.FlagSet, *clientFlags) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	cf := &clientFlags{}
	cf.register(fs)
	return fs, cf
}

// oneFileSystem parses args, which must name exactly one file system (by id
// or Name), and returns an EFS client and that file system.
func (c *clientFlags) oneFileSystem(ctx context.Context, fs *flag.FlagSet, args []string) (*efs.Client, types.FileSystemDescription, error) {
	ref, err := parseOne(fs, args, "file system")
	if err != nil {
		return nil, types.FileSystemDescription{}, err
	}
	client, err := c.efs()
	if err != nil {
		return nil, types.FileSystemDescription{}, err
	}
	f, err := resolveFS(ctx, client, ref)
	return client, f, err
}

// deleteEach deletes every named resource with del, printing each name
// deleted; it goes on past failures and reports them all.
func deleteEach(e *env, names []string, del func(name string) error) error {
	var errs []error
	for _, name := range names {
		if err := del(name); err != nil {
			errs = append(errs, fmt.Errorf("%s: %s", name, describeError(err)))
			continue
		}
		fmt.Fprintln(e.stdout, name)
	}
	return errors.Join(errs...)
}
