"""Drive a Tarn server's EFS API through boto3 and print a JSON summary.

The endpoint comes from TARN_ENDPOINT, the credentials and region from the
standard AWS_* variables. Every call either succeeds or fails with an AWS
error code; the summary records what came back so that the Go test can check
it. Any unexpected exception ends the script with a traceback and exit 1.
"""

import json
import os
import sys

import boto3
import botocore.config
from botocore.exceptions import ClientError

ENDPOINT = os.environ["TARN_ENDPOINT"]
CONFIG = botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"})


def client(**creds):
    return boto3.client("efs", endpoint_url=ENDPOINT, config=CONFIG, **creds)


efs = client()
summary = {"errors": {}}


def error_code(name, fn, **kwargs):
    """Call fn expecting a ClientError and record its code under name."""
    try:
        fn(**kwargs)
    except ClientError as e:
        summary["errors"][name] = e.response["Error"]["Code"]
        return
    summary["errors"][name] = "no error"


def tags(lst):
    return {t["Key"]: t["Value"] for t in lst}


def fs_view(fs):
    return {
        "FileSystemId": fs["FileSystemId"],
        "FileSystemArn": fs["FileSystemArn"],
        "OwnerId": fs["OwnerId"],
        "CreationToken": fs["CreationToken"],
        "LifeCycleState": fs["LifeCycleState"],
        "Name": fs.get("Name"),
        "Size": fs["SizeInBytes"]["Value"],
        "Encrypted": fs["Encrypted"],
        "ThroughputMode": fs["ThroughputMode"],
        "ProvisionedThroughputInMibps": fs.get("ProvisionedThroughputInMibps"),
        "NumberOfMountTargets": fs["NumberOfMountTargets"],
        "Tags": tags(fs["Tags"]),
    }


created = efs.create_file_system(
    CreationToken="boto-main",
    ThroughputMode="provisioned",
    ProvisionedThroughputInMibps=8,
    Encrypted=True,
    Tags=[{"Key": "Name", "Value": "boto"}, {"Key": "lang", "Value": "python"}],
)
fs_id = created["FileSystemId"]
summary["created"] = fs_view(created)
error_code("reused_token", efs.create_file_system, CreationToken="boto-main")
error_code("long_token", efs.create_file_system, CreationToken="t" * 65)
for i in range(2, 6):
    efs.create_file_system(CreationToken="boto-%d" % i)

summary["by_id"] = [fs_view(f) for f in efs.describe_file_systems(FileSystemId=fs_id)["FileSystems"]]
summary["by_token"] = [fs_view(f) for f in efs.describe_file_systems(CreationToken="boto-main")["FileSystems"]]
pages = efs.get_paginator("describe_file_systems").paginate(PaginationConfig={"PageSize": 2})
summary["pages"] = [[f["FileSystemId"] for f in page["FileSystems"]] for page in pages]
first = efs.describe_file_systems(MaxItems=2)
summary["first_page_next_marker"] = bool(first.get("NextMarker"))
second = efs.describe_file_systems(MaxItems=2, Marker=first["NextMarker"])
summary["second_page_marker_echo"] = second.get("Marker") == first["NextMarker"]

summary["updated"] = fs_view(efs.update_file_system(FileSystemId=fs_id, ProvisionedThroughputInMibps=16))
efs.update_file_system(FileSystemId=fs_id, ThroughputMode="elastic")
error_code("second_mode_switch", efs.update_file_system, FileSystemId=fs_id, ThroughputMode="bursting")

efs.tag_resource(ResourceId=fs_id, Tags=[{"Key": "env", "Value": "test"}])
summary["tags_after_tag"] = tags(efs.list_tags_for_resource(ResourceId=fs_id)["Tags"])
efs.untag_resource(ResourceId=fs_id, TagKeys=["lang"])
summary["tags_after_untag"] = tags(efs.list_tags_for_resource(ResourceId=fs_id)["Tags"])

ap = efs.create_access_point(
    FileSystemId=fs_id,
    PosixUser={"Uid": 1001, "Gid": 1001},
    RootDirectory={"Path": "/message", "CreationInfo": {"OwnerUid": 1001, "OwnerGid": 1001, "Permissions": "750"}},
    Tags=[{"Key": "Name", "Value": "boto-ap"}],
)
ap_id = ap["AccessPointId"]
summary["ap"] = {k: ap.get(k) for k in ("AccessPointId", "AccessPointArn", "FileSystemId", "Name", "PosixUser", "RootDirectory", "OwnerId")}
summary["ap_by_id"] = [a["AccessPointId"] for a in efs.describe_access_points(AccessPointId=ap_id)["AccessPoints"]]
summary["ap_by_fs"] = [a["AccessPointId"] for a in efs.describe_access_points(FileSystemId=fs_id)["AccessPoints"]]
error_code("delete_fs_with_ap", efs.delete_file_system, FileSystemId=fs_id)

mt = efs.create_mount_target(FileSystemId=fs_id, SubnetId="subnet-0123456789abcdef0")
mt_id = mt["MountTargetId"]
summary["mt"] = {k: mt.get(k) for k in ("MountTargetId", "FileSystemId", "SubnetId", "IpAddress")}
error_code("second_mount_target", efs.create_mount_target, FileSystemId=fs_id, SubnetId="subnet-0123456789abcdef1")
summary["mt_by_fs"] = [m["MountTargetId"] for m in efs.describe_mount_targets(FileSystemId=fs_id)["MountTargets"]]
summary["mt_by_id"] = [m["MountTargetId"] for m in efs.describe_mount_targets(MountTargetId=mt_id)["MountTargets"]]

policy = os.environ["POLICY"]
error_code("no_policy", efs.describe_file_system_policy, FileSystemId=fs_id)
error_code("bad_policy", efs.put_file_system_policy, FileSystemId=fs_id, Policy="{not json")
efs.put_file_system_policy(FileSystemId=fs_id, Policy=policy)
summary["policy"] = efs.describe_file_system_policy(FileSystemId=fs_id)["Policy"]
efs.delete_file_system_policy(FileSystemId=fs_id)
error_code("deleted_policy", efs.describe_file_system_policy, FileSystemId=fs_id)

efs.delete_access_point(AccessPointId=ap_id)
error_code("delete_fs_with_mt", efs.delete_file_system, FileSystemId=fs_id)
efs.delete_mount_target(MountTargetId=mt_id)
efs.delete_file_system(FileSystemId=fs_id)
error_code("deleted_fs", efs.describe_file_systems, FileSystemId=fs_id)
error_code("deleted_ap", efs.describe_access_points, AccessPointId=ap_id)
error_code("deleted_mt", efs.delete_mount_target, MountTargetId=mt_id)

key, secret = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
error_code("wrong_secret", client(aws_access_key_id=key, aws_secret_access_key="A" * 40).describe_file_systems)
error_code("unknown_key", client(aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key=secret).describe_file_systems)

json.dump(summary, sys.stdout, indent=1, default=str)
