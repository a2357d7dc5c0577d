package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/efs/types"
)

func apCommand() *command {
	return &command{name: "ap", usage: "tarn ap SUBCOMMAND", summary: "access points", sub: []*command{
		{name: "create", usage: "tarn ap create FS --uid U --gid G --path P [--owner U:G --mode M]", summary: "create an access point", run: apCreate},
		{name: "ls", usage: "tarn ap ls [FS]", summary: "list access points", run: apList},
		{name: "rm", usage: "tarn ap rm AP...", summary: "delete access points", run: apRemove},
	}}
}

func parseUint32(s, what string) (int64, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, usagef("%s %q is not a number from 0 to 4294967295", what, s)
	}
	return int64(n), nil
}

func apCreate(ctx context.Context, e *env, args []string) error {
	fs, cf := newFlags("tarn ap create")
	uid := fs.String("uid", "", "POSIX user id forced on every request")
	gid := fs.String("gid", "", "POSIX group id forced on every request")
	groups := fs.String("groups", "", "secondary group ids, comma-separated")
	path := fs.String("path", "/", "root directory of the access point")
	owner := fs.String("owner", "", "UID:GID owning the root directory when it is created")
	mode := fs.String("mode", "", "permissions of the root directory when it is created (octal, e.g. 750)")
	name := fs.String("name", "", "Name tag")
	token := fs.String("token", "", "client token for idempotency (default: random)")
	ref, err := parseOne(fs, args, "file system")
	if err != nil {
		return err
	}
	in := &efs.CreateAccessPointInput{ClientToken: aws.String(firstNonEmpty(*token, randomToken())),
		RootDirectory: &types.RootDirectory{Path: path}}
	if (*uid == "") != (*gid == "") {
		return usagef("give both --uid and --gid, or neither")
	}
	if *uid != "" {
		u, err := parseUint32(*uid, "--uid")
		if err != nil {
			return err
		}
		g, err := parseUint32(*gid, "--gid")
		if err != nil {
			return err
		}
		in.PosixUser = &types.PosixUser{Uid: aws.Int64(u), Gid: aws.Int64(g)}
		if *groups != "" {
			for _, s := range strings.Split(*groups, ",") {
				n, err := parseUint32(strings.TrimSpace(s), "--groups member")
				if err != nil {
					return err
				}
				in.PosixUser.SecondaryGids = append(in.PosixUser.SecondaryGids, n)
			}
		}
	}
	if (*owner == "") != (*mode == "") {
		return usagef("give both --owner and --mode to create the root directory, or neither")
	}
	if *owner != "" {
		us, gs, ok := strings.Cut(*owner, ":")
		if !ok {
			return usagef("--owner %q is not UID:GID", *owner)
		}
		u, err := parseUint32(us, "--owner uid")
		if err != nil {
			return err
		}
		g, err := parseUint32(gs, "--owner gid")
		if err != nil {
			return err
		}
		in.RootDirectory.CreationInfo = &types.CreationInfo{OwnerUid: aws.Int64(u), OwnerGid: aws.Int64(g), Permissions: mode}
	}
	if *name != "" {
		in.Tags = []types.Tag{{Key: aws.String("Name"), Value: name}}
	}
	client, err := cf.efs()
	if err != nil {
		return err
	}
	f, err := resolveFS(ctx, client, ref)
	if err != nil {
		return err
	}
	in.FileSystemId = f.FileSystemId
	out, err := client.CreateAccessPoint(ctx, in)
	if err != nil {
		return err
	}
	if cf.json {
		return printJSON(e.stdout, apView(types.AccessPointDescription{AccessPointId: out.AccessPointId, AccessPointArn: out.AccessPointArn,
			FileSystemId: out.FileSystemId, Name: out.Name, PosixUser: out.PosixUser, RootDirectory: out.RootDirectory,
			LifeCycleState: out.LifeCycleState, ClientToken: out.ClientToken, OwnerId: out.OwnerId, Tags: out.Tags}))
	}
	fmt.Fprintln(e.stdout, deref(out.AccessPointId))
	return nil
}

func apView(a types.AccessPointDescription) map[string]any {
	v := map[string]any{
		"AccessPointId":  deref(a.AccessPointId),
		"AccessPointArn": deref(a.AccessPointArn),
		"FileSystemId":   deref(a.FileSystemId),
		"Name":           deref(a.Name),
		"LifeCycleState": string(a.LifeCycleState),
		"ClientToken":    deref(a.ClientToken),
	}
	if pu := a.PosixUser; pu != nil {
		v["PosixUser"] = map[string]any{"Uid": deref(pu.Uid), "Gid": deref(pu.Gid), "SecondaryGids": pu.SecondaryGids}
	}
	if rd := a.RootDirectory; rd != nil {
		r := map[string]any{"Path": deref(rd.Path)}
		if ci := rd.CreationInfo; ci != nil {
			r["CreationInfo"] = map[string]any{"OwnerUid": deref(ci.OwnerUid), "OwnerGid": deref(ci.OwnerGid), "Permissions": deref(ci.Permissions)}
		}
		v["RootDirectory"] = r
	}
	return v
}

func apList(ctx context.Context, e *env, args []string) error {
	fs, cf := newFlags("tarn ap ls")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usagef("tarn ap ls takes at most one file system")
	}
	client, err := cf.efs()
	if err != nil {
		return err
	}
	in := &efs.DescribeAccessPointsInput{}
	if len(pos) == 1 {
		f, err := resolveFS(ctx, client, pos[0])
		if err != nil {
			return err
		}
		in.FileSystemId = f.FileSystemId
	}
	var all []types.AccessPointDescription
	p := efs.NewDescribeAccessPointsPaginator(client, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		all = append(all, out.AccessPoints...)
	}
	if cf.json {
		views := []map[string]any{}
		for _, a := range all {
			views = append(views, apView(a))
		}
		return printJSON(e.stdout, views)
	}
	var rows [][]string
	for _, a := range all {
		user, root := "-", "/"
		if pu := a.PosixUser; pu != nil {
			user = fmt.Sprintf("%d:%d", deref(pu.Uid), deref(pu.Gid))
			if len(pu.SecondaryGids) > 0 {
				user += fmt.Sprintf(" +%v", pu.SecondaryGids)
			}
		}
		if rd := a.RootDirectory; rd != nil {
			root = deref(rd.Path)
			if ci := rd.CreationInfo; ci != nil {
				root += fmt.Sprintf(" (creates %d:%d %s)", deref(ci.OwnerUid), deref(ci.OwnerGid), deref(ci.Permissions))
			}
		}
		rows = append(rows, []string{deref(a.AccessPointId), deref(a.FileSystemId), deref(a.Name), user, root, string(a.LifeCycleState)})
	}
	return printTable(e.stdout, []string{"ID", "FILE SYSTEM", "NAME", "USER", "ROOT", "STATE"}, rows)
}

func apRemove(ctx context.Context, e *env, args []string) error {
	fs, cf := newFlags("tarn ap rm")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("tarn ap rm needs at least one access point id")
	}
	client, err := cf.efs()
	if err != nil {
		return err
	}
	for _, id := range pos {
		if _, err := client.DeleteAccessPoint(ctx, &efs.DeleteAccessPointInput{AccessPointId: aws.String(id)}); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "deleted %s\n", id)
	}
	return nil
}
