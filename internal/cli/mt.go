package cli

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/efs"
)

func mtCommand() *command {
	return &command{name: "mt", usage: "tarn mt SUBCOMMAND", summary: "mount targets (network endpoints of the file service)", sub: []*command{
		{name: "create", usage: "tarn mt create FS [--subnet ID]", summary: "create a mount target", run: mtCreate},
		{name: "ls", usage: "tarn mt ls FS", summary: "list a file system's mount targets", run: mtList},
		{name: "rm", usage: "tarn mt rm MT...", summary: "delete mount targets", run: mtRemove},
	}}
}

func mtCreate(ctx context.Context, e *env, args []string) error {
	fs, cf := newFlags("tarn mt create")
	subnet := fs.String("subnet", "subnet-00000000", "subnet id to record")
	client, f, err := cf.oneFileSystem(ctx, fs, args)
	if err != nil {
		return err
	}
	out, err := client.CreateMountTarget(ctx, &efs.CreateMountTargetInput{FileSystemId: f.FileSystemId, SubnetId: subnet})
	if err != nil {
		return err
	}
	if cf.json {
		return printJSON(e.stdout, map[string]any{"MountTargetId": deref(out.MountTargetId), "FileSystemId": deref(out.FileSystemId),
			"IpAddress": deref(out.IpAddress), "LifeCycleState": string(out.LifeCycleState), "AvailabilityZoneName": deref(out.AvailabilityZoneName)})
	}
	fmt.Fprintln(e.stdout, deref(out.MountTargetId))
	return nil
}

func mtList(ctx context.Context, e *env, args []string) error {
	fs, cf := newFlags("tarn mt ls")
	client, f, err := cf.oneFileSystem(ctx, fs, args)
	if err != nil {
		return err
	}
	out, err := client.DescribeMountTargets(ctx, &efs.DescribeMountTargetsInput{FileSystemId: f.FileSystemId})
	if err != nil {
		return err
	}
	if cf.json {
		views := []map[string]any{}
		for _, m := range out.MountTargets {
			views = append(views, map[string]any{"MountTargetId": deref(m.MountTargetId), "FileSystemId": deref(m.FileSystemId),
				"IpAddress": deref(m.IpAddress), "LifeCycleState": string(m.LifeCycleState), "AvailabilityZoneName": deref(m.AvailabilityZoneName)})
		}
		return printJSON(e.stdout, views)
	}
	var rows [][]string
	for _, m := range out.MountTargets {
		rows = append(rows, []string{deref(m.MountTargetId), deref(m.FileSystemId), deref(m.IpAddress), deref(m.AvailabilityZoneName), string(m.LifeCycleState)})
	}
	return printTable(e.stdout, []string{"ID", "FILE SYSTEM", "ADDRESS", "ZONE", "STATE"}, rows)
}

func mtRemove(ctx context.Context, e *env, args []string) error {
	fs, cf := newFlags("tarn mt rm")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("tarn mt rm needs at least one mount target id")
	}
	client, err := cf.efs()
	if err != nil {
		return err
	}
	for _, id := range pos {
		if _, err := client.DeleteMountTarget(ctx, &efs.DeleteMountTargetInput{MountTargetId: aws.String(id)}); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "deleted %s\n", id)
	}
	return nil
}
