package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/efs/types"
)

func fsCommand() *command {
	return &command{name: "fs", usage: "tarn fs SUBCOMMAND", summary: "elastic file systems", sub: []*command{
		{name: "create", usage: "tarn fs create [--name N] [--throughput-mode M]", summary: "create a file system", run: fsCreate},
		{name: "ls", usage: "tarn fs ls", summary: "list file systems", run: fsList},
		{name: "show", usage: "tarn fs show FS", summary: "show one file system (id or name)", run: fsShow},
		{name: "update", usage: "tarn fs update FS --throughput-mode M [--provisioned-mibps N]", summary: "change throughput", run: fsUpdate},
		{name: "rm", usage: "tarn fs rm FS [--force]", summary: "delete a file system (--force: its access points and mount targets too)", run: fsRemove},
		{name: "policy", usage: "tarn fs policy FS [--set FILE|-] [--delete]", summary: "show, set or delete the file system policy", run: fsPolicy},
	}}
}

type tagFlags []types.Tag

func (t *tagFlags) String() string { return "" }
func (t *tagFlags) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("tag %q is not KEY=VALUE", v)
	}
	*t = append(*t, types.Tag{Key: aws.String(k), Value: aws.String(val)})
	return nil
}

func randomToken() string {
	var b [8]byte
	rand.Read(b[:])
	return "tarn-cli-" + hex.EncodeToString(b[:])
}

func fsCreate(ctx context.Context, e *env, args []string) error {
	fs, cf := newFlags("tarn fs create")
	name := fs.String("name", "", "Name tag")
	token := fs.String("token", "", "creation token for idempotency (default: random)")
	perf := fs.String("performance-mode", "generalPurpose", "generalPurpose or maxIO")
	tput := fs.String("throughput-mode", "bursting", "bursting, provisioned or elastic")
	mibps := fs.Float64("provisioned-mibps", 0, "provisioned throughput in MiB/s (with --throughput-mode provisioned)")
	encrypted := fs.Bool("encrypted", false, "encrypt data at rest")
	var tags tagFlags
	fs.Var(&tags, "tag", "KEY=VALUE tag (repeatable)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("tarn fs create takes no arguments; give the name with --name")
	}
	client, err := cf.efs()
	if err != nil {
		return err
	}
	in := &efs.CreateFileSystemInput{
		CreationToken:   aws.String(firstNonEmpty(*token, randomToken())),
		PerformanceMode: types.PerformanceMode(*perf),
		ThroughputMode:  types.ThroughputMode(*tput),
		Encrypted:       encrypted,
		Tags:            tags,
	}
	if *mibps != 0 {
		in.ProvisionedThroughputInMibps = mibps
	}
	if *name != "" {
		in.Tags = append(in.Tags, types.Tag{Key: aws.String("Name"), Value: name})
	}
	out, err := client.CreateFileSystem(ctx, in)
	if err != nil {
		return err
	}
	if cf.json {
		return printJSON(e.stdout, fsView(types.FileSystemDescription{FileSystemId: out.FileSystemId, FileSystemArn: out.FileSystemArn,
			Name: out.Name, CreationToken: out.CreationToken, CreationTime: out.CreationTime, LifeCycleState: out.LifeCycleState,
			PerformanceMode: out.PerformanceMode, ThroughputMode: out.ThroughputMode, Encrypted: out.Encrypted,
			NumberOfMountTargets: out.NumberOfMountTargets, OwnerId: out.OwnerId, SizeInBytes: out.SizeInBytes,
			ProvisionedThroughputInMibps: out.ProvisionedThroughputInMibps, Tags: out.Tags}))
	}
	fmt.Fprintln(e.stdout, deref(out.FileSystemId))
	return nil
}

// fsView is the JSON form of a file system the CLI prints.
func fsView(f types.FileSystemDescription) map[string]any {
	v := map[string]any{
		"FileSystemId":         deref(f.FileSystemId),
		"FileSystemArn":        deref(f.FileSystemArn),
		"Name":                 deref(f.Name),
		"CreationToken":        deref(f.CreationToken),
		"CreationTime":         deref(f.CreationTime).UTC().Format(time.RFC3339),
		"LifeCycleState":       string(f.LifeCycleState),
		"PerformanceMode":      string(f.PerformanceMode),
		"ThroughputMode":       string(f.ThroughputMode),
		"Encrypted":            deref(f.Encrypted),
		"NumberOfMountTargets": f.NumberOfMountTargets,
		"OwnerId":              deref(f.OwnerId),
	}
	if f.SizeInBytes != nil {
		v["SizeInBytes"] = f.SizeInBytes.Value
	}
	if f.ProvisionedThroughputInMibps != nil {
		v["ProvisionedThroughputInMibps"] = *f.ProvisionedThroughputInMibps
	}
	tags := map[string]string{}
	for _, t := range f.Tags {
		tags[deref(t.Key)] = deref(t.Value)
	}
	v["Tags"] = tags
	return v
}

func fsList(ctx context.Context, e *env, args []string) error {
	fs, cf := newFlags("tarn fs ls")
	if _, err := parseInterleaved(fs, args); err != nil {
		return err
	}
	client, err := cf.efs()
	if err != nil {
		return err
	}
	var all []types.FileSystemDescription
	p := efs.NewDescribeFileSystemsPaginator(client, &efs.DescribeFileSystemsInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		all = append(all, out.FileSystems...)
	}
	if cf.json {
		views := []map[string]any{}
		for _, f := range all {
			views = append(views, fsView(f))
		}
		return printJSON(e.stdout, views)
	}
	var rows [][]string
	for _, f := range all {
		tput := string(f.ThroughputMode)
		if f.ProvisionedThroughputInMibps != nil {
			tput += fmt.Sprintf(" (%g MiB/s)", *f.ProvisionedThroughputInMibps)
		}
		var size int64
		if f.SizeInBytes != nil {
			size = f.SizeInBytes.Value
		}
		rows = append(rows, []string{deref(f.FileSystemId), deref(f.Name), string(f.LifeCycleState), humanBytes(size), tput,
			fmt.Sprint(f.NumberOfMountTargets), deref(f.CreationTime).Local().Format("2006-01-02 15:04")})
	}
	return printTable(e.stdout, []string{"ID", "NAME", "STATE", "SIZE", "THROUGHPUT", "MOUNT TARGETS", "CREATED"}, rows)
}

// resolveFS accepts a file-system id or Name and returns the description.
func resolveFS(ctx context.Context, client *efs.Client, ref string) (types.FileSystemDescription, error) {
	if strings.HasPrefix(ref, "fs-") || strings.HasPrefix(ref, "arn:") {
		out, err := client.DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{FileSystemId: aws.String(ref)})
		if err != nil {
			return types.FileSystemDescription{}, err
		}
		return out.FileSystems[0], nil
	}
	var found []types.FileSystemDescription
	p := efs.NewDescribeFileSystemsPaginator(client, &efs.DescribeFileSystemsInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return types.FileSystemDescription{}, err
		}
		for _, f := range out.FileSystems {
			if deref(f.Name) == ref {
				found = append(found, f)
			}
		}
	}
	switch len(found) {
	case 0:
		return types.FileSystemDescription{}, fmt.Errorf("no file system has id or name %q", ref)
	case 1:
		return found[0], nil
	}
	return types.FileSystemDescription{}, fmt.Errorf("%d file systems are named %q: use the id", len(found), ref)
}

func fsShow(ctx context.Context, e *env, args []string) error {
	fs, cf := newFlags("tarn fs show")
	_, f, err := cf.oneFileSystem(ctx, fs, args)
	if err != nil {
		return err
	}
	v := fsView(f)
	if cf.json {
		return printJSON(e.stdout, v)
	}
	var rows [][]string
	for _, k := range []string{"FileSystemId", "FileSystemArn", "Name", "LifeCycleState", "SizeInBytes", "PerformanceMode",
		"ThroughputMode", "ProvisionedThroughputInMibps", "Encrypted", "NumberOfMountTargets", "CreationToken", "CreationTime", "Tags"} {
		if val, ok := v[k]; ok {
			rows = append(rows, []string{k, fmt.Sprint(val)})
		}
	}
	return printTable(e.stdout, []string{"FIELD", "VALUE"}, rows)
}

func fsUpdate(ctx context.Context, e *env, args []string) error {
	fs, cf := newFlags("tarn fs update")
	tput := fs.String("throughput-mode", "", "bursting, provisioned or elastic")
	mibps := fs.Float64("provisioned-mibps", 0, "provisioned throughput in MiB/s")
	client, f, err := cf.oneFileSystem(ctx, fs, args)
	if err != nil {
		return err
	}
	in := &efs.UpdateFileSystemInput{FileSystemId: f.FileSystemId, ThroughputMode: types.ThroughputMode(*tput)}
	if *mibps != 0 {
		in.ProvisionedThroughputInMibps = mibps
	}
	out, err := client.UpdateFileSystem(ctx, in)
	if err != nil {
		return err
	}
	v := fsView(types.FileSystemDescription{FileSystemId: out.FileSystemId, FileSystemArn: out.FileSystemArn, Name: out.Name,
		CreationToken: out.CreationToken, CreationTime: out.CreationTime, LifeCycleState: out.LifeCycleState,
		PerformanceMode: out.PerformanceMode, ThroughputMode: out.ThroughputMode, Encrypted: out.Encrypted,
		NumberOfMountTargets: out.NumberOfMountTargets, OwnerId: out.OwnerId, SizeInBytes: out.SizeInBytes,
		ProvisionedThroughputInMibps: out.ProvisionedThroughputInMibps, Tags: out.Tags})
	if cf.json {
		return printJSON(e.stdout, v)
	}
	fmt.Fprintf(e.stdout, "%s: throughput mode %s", deref(out.FileSystemId), out.ThroughputMode)
	if out.ProvisionedThroughputInMibps != nil {
		fmt.Fprintf(e.stdout, ", %g MiB/s", *out.ProvisionedThroughputInMibps)
	}
	fmt.Fprintln(e.stdout)
	return nil
}

func fsRemove(ctx context.Context, e *env, args []string) error {
	fs, cf := newFlags("tarn fs rm")
	force := fs.Bool("force", false, "delete the file system's access points and mount targets first")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("tarn fs rm needs at least one file system")
	}
	client, err := cf.efs()
	if err != nil {
		return err
	}
	for _, ref := range pos {
		f, err := resolveFS(ctx, client, ref)
		if err != nil {
			return err
		}
		if *force {
			if err := removeDependents(ctx, client, deref(f.FileSystemId)); err != nil {
				return err
			}
		}
		if _, err := client.DeleteFileSystem(ctx, &efs.DeleteFileSystemInput{FileSystemId: f.FileSystemId}); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "deleted %s\n", deref(f.FileSystemId))
	}
	return nil
}

func removeDependents(ctx context.Context, client *efs.Client, fsID string) error {
	aps := efs.NewDescribeAccessPointsPaginator(client, &efs.DescribeAccessPointsInput{FileSystemId: aws.String(fsID)})
	for aps.HasMorePages() {
		out, err := aps.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, ap := range out.AccessPoints {
			if _, err := client.DeleteAccessPoint(ctx, &efs.DeleteAccessPointInput{AccessPointId: ap.AccessPointId}); err != nil {
				return err
			}
		}
	}
	mts, err := client.DescribeMountTargets(ctx, &efs.DescribeMountTargetsInput{FileSystemId: aws.String(fsID)})
	if err != nil {
		return err
	}
	for _, mt := range mts.MountTargets {
		if _, err := client.DeleteMountTarget(ctx, &efs.DeleteMountTargetInput{MountTargetId: mt.MountTargetId}); err != nil {
			return err
		}
	}
	return nil
}

func fsPolicy(ctx context.Context, e *env, args []string) error {
	fs, cf := newFlags("tarn fs policy")
	set := fs.String("set", "", "set the policy from FILE (- for standard input)")
	del := fs.Bool("delete", false, "delete the policy (the default policy applies)")
	client, f, err := cf.oneFileSystem(ctx, fs, args)
	if err != nil {
		return err
	}
	switch {
	case *del:
		_, err := client.DeleteFileSystemPolicy(ctx, &efs.DeleteFileSystemPolicyInput{FileSystemId: f.FileSystemId})
		return err
	case *set != "":
		var doc []byte
		if *set == "-" {
			doc, err = io.ReadAll(os.Stdin)
		} else {
			doc, err = os.ReadFile(*set)
		}
		if err != nil {
			return fmt.Errorf("read policy: %w", err)
		}
		_, err = client.PutFileSystemPolicy(ctx, &efs.PutFileSystemPolicyInput{FileSystemId: f.FileSystemId, Policy: aws.String(string(doc))})
		return err
	}
	out, err := client.DescribeFileSystemPolicy(ctx, &efs.DescribeFileSystemPolicyInput{FileSystemId: f.FileSystemId})
	var nf *types.PolicyNotFound
	if errors.As(err, &nf) {
		fmt.Fprintln(e.stderr, "no policy set: the default policy applies (any client that can reach a mount target has full access)")
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, deref(out.Policy))
	return nil
}
