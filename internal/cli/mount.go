package cli

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

func mountCommand() *command {
	return &command{name: "mount", usage: "tarn mount FS MOUNTPOINT [--access-point AP] [--read-only]", summary: "mount a file system on this host (served by the local server)",
		run: func(ctx context.Context, e *env, args []string) error {
			fs, cf := newFlags("tarn mount")
			ro := fs.Bool("read-only", false, "mount read-only")
			ap := fs.String("access-point", "", "mount through this access point (fsap-…): its user and root directory apply")
			pos, err := parseInterleaved(fs, args)
			if err != nil {
				return err
			}
			if len(pos) == 0 {
				return listMounts(ctx, e, cf)
			}
			if len(pos) != 2 {
				return usagef("usage: tarn mount FS MOUNTPOINT")
			}
			mp, err := filepath.Abs(pos[1])
			if err != nil {
				return err
			}
			// An id goes to the server as it is: mounting needs only
			// elasticfilesystem:ClientMount, not DescribeFileSystems, which
			// resolving a Name takes.
			fsID := pos[0]
			if !strings.HasPrefix(fsID, "fs-") {
				client, err := cf.efs()
				if err != nil {
					return err
				}
				f, err := resolveFS(ctx, client, fsID)
				if err != nil {
					return err
				}
				fsID = deref(f.FileSystemId)
			}
			var out mountView
			in := map[string]any{"FileSystemId": fsID, "MountPoint": mp, "ReadOnly": *ro, "AccessPointId": *ap}
			if err := cf.callTarn(ctx, "POST", "/tarn/v1/mounts", in, &out); err != nil {
				return err
			}
			if cf.json {
				return printJSON(e.stdout, out)
			}
			via := ""
			if out.AccessPointID != "" {
				via = " through " + out.AccessPointID
			}
			mode := ""
			if out.ReadOnly {
				mode = " (read-only)"
			}
			fmt.Fprintf(e.stdout, "mounted %s%s at %s%s\n", out.FileSystemID, via, out.MountPoint, mode)
			return nil
		}}
}

type mountView struct {
	FileSystemID  string    `json:"FileSystemId"`
	AccessPointID string    `json:"AccessPointId,omitempty"`
	MountPoint    string    `json:"MountPoint"`
	ReadOnly      bool      `json:"ReadOnly"`
	SquashRoot    bool      `json:"SquashRoot"`
	Mounted       time.Time `json:"Mounted"`
}

func listMounts(ctx context.Context, e *env, cf *clientFlags) error {
	var out struct {
		Mounts []mountView `json:"Mounts"`
	}
	if err := cf.callTarn(ctx, "GET", "/tarn/v1/mounts", nil, &out); err != nil {
		return err
	}
	if cf.json {
		return printJSON(e.stdout, out.Mounts)
	}
	var rows [][]string
	for _, m := range out.Mounts {
		mode := "rw"
		if m.ReadOnly {
			mode = "ro"
		}
		if m.SquashRoot {
			mode += ",root_squash"
		}
		ap := m.AccessPointID
		if ap == "" {
			ap = "-"
		}
		rows = append(rows, []string{m.FileSystemID, ap, m.MountPoint, mode, m.Mounted.Local().Format("2006-01-02 15:04:05")})
	}
	return printTable(e.stdout, []string{"FILE SYSTEM", "ACCESS POINT", "MOUNT POINT", "MODE", "SINCE"}, rows)
}

func umountCommand() *command {
	return &command{name: "umount", usage: "tarn umount MOUNTPOINT...", summary: "unmount tarn mounts",
		run: func(ctx context.Context, e *env, args []string) error {
			fs, cf := newFlags("tarn umount")
			pos, err := parseInterleaved(fs, args)
			if err != nil {
				return err
			}
			if len(pos) == 0 {
				return usagef("usage: tarn umount MOUNTPOINT...")
			}
			for _, p := range pos {
				mp, err := filepath.Abs(p)
				if err != nil {
					return err
				}
				if err := cf.callTarn(ctx, "DELETE", "/tarn/v1/mounts?MountPoint="+url.QueryEscape(mp), nil, nil); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "unmounted %s\n", mp)
			}
			return nil
		}}
}

func fsckCommand() *command {
	return &command{name: "fsck", usage: "tarn fsck FS [--repair]", summary: "check a file system's metadata and blocks (--repair fixes them)",
		run: func(ctx context.Context, e *env, args []string) error {
			fs, cf := newFlags("tarn fsck")
			repair := fs.Bool("repair", false, "repair what is found")
			ref, err := parseOne(fs, args, "file system")
			if err != nil {
				return err
			}
			client, err := cf.efs()
			if err != nil {
				return err
			}
			f, err := resolveFS(ctx, client, ref)
			if err != nil {
				return err
			}
			var out struct {
				FileSystemID                    string `json:"FileSystemId"`
				OK, Repaired                    bool
				Problems                        []string
				Inodes, Entries, Slices, Blocks int
			}
			if err := cf.callTarn(ctx, "POST", "/tarn/v1/file-systems/"+deref(f.FileSystemId)+"/fsck", map[string]bool{"Repair": *repair}, &out); err != nil {
				return err
			}
			if cf.json {
				return printJSON(e.stdout, out)
			}
			fmt.Fprintf(e.stdout, "%s: %d inodes, %d entries, %d slices, %d blocks checked\n", out.FileSystemID, out.Inodes, out.Entries, out.Slices, out.Blocks)
			for _, p := range out.Problems {
				fmt.Fprintln(e.stdout, "  "+p)
			}
			switch {
			case out.OK:
				fmt.Fprintln(e.stdout, "clean")
			case out.Repaired:
				fmt.Fprintf(e.stdout, "%d problems repaired\n", len(out.Problems))
			default:
				return fmt.Errorf("%d problems found; run 'tarn fsck %s --repair' to fix them", len(out.Problems), ref)
			}
			return nil
		}}
}
