#!/usr/bin/python3
"""Regenerate the client fixtures used by clients_test.go.

Runs boto3 (botocore's SigV4Auth and SigV4QueryAuth) and the AWS CLI against a
local capture server and writes each request exactly as it arrived on the wire
to <name>.json next to this script. Needs Debian python3-boto3 and awscli:

    /usr/bin/python3 internal/sigv4/testdata/clients/gen.py

The Go test replays the fixtures with a clock fixed at the request's date, so
it does not need python.
"""

import base64
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import urllib.request

import boto3
import botocore
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

HERE = os.path.dirname(os.path.abspath(__file__))
KEY_ID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
REGION = "us-west-2"

captured = []


class Capture(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def handle_one(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        captured.append({
            "method": self.command,
            "target": self.path,
            "headers": [[k, v] for k, v in self.headers.items()],
            "body_base64": base64.b64encode(body).decode(),
        })
        out = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_one

    def log_message(self, *args):
        pass


def take(name, client, service, region=REGION):
    if not captured:
        sys.exit(f"{name}: no request captured")
    req = captured.pop()
    captured.clear()
    req.update({
        "name": name,
        "client": client,
        "access_key_id": KEY_ID,
        "secret": SECRET,
        "service": service,
        "region": region,
    })
    with open(os.path.join(HERE, name + ".json"), "w") as f:
        json.dump(req, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote", name)


def main():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Capture)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{srv.server_address[1]}"

    boto = f"boto3 {boto3.__version__} botocore {botocore.__version__}"
    session = boto3.session.Session(aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)
    cfg = Config(retries={"total_max_attempts": 1})

    def client(service, region=REGION):
        return session.client(service, region_name=region, endpoint_url=endpoint, config=cfg)

    def call(fn, **kw):
        try:
            fn(**kw)
        except Exception:  # the capture server's "{}" does not fit every response shape
            pass

    lam = client("lambda")
    call(lam.invoke, FunctionName="arn:aws:lambda:us-west-2:123456789012:function:my-fn",
         Qualifier="$LATEST", Payload=b'{"k": "v"}')
    take("boto3-lambda-invoke-arn", boto, "lambda")
    call(lam.get_function, FunctionName="caf\u00e9 fn", Qualifier="$LATEST")
    take("boto3-lambda-unicode-space", boto, "lambda")
    call(lam.list_functions, MaxItems=5, Marker="a b/c+d")
    take("boto3-lambda-list-query", boto, "lambda")

    efs = client("efs")
    call(efs.create_file_system, CreationToken="tok-1", Tags=[{"Key": "k", "Value": "v w"}])
    take("boto3-efs-create", boto, "elasticfilesystem")
    call(efs.describe_file_systems, CreationToken="tok with space")
    take("boto3-efs-describe-query", boto, "elasticfilesystem")

    iam = client("iam", "us-east-1")
    call(iam.create_user, UserName="alice", Path="/team/")
    take("boto3-iam-create-user-form", boto, "iam", "us-east-1")

    apigw = client("apigatewayv2")
    call(apigw.create_api, Name="wall", ProtocolType="HTTP")
    take("boto3-apigatewayv2-create-api", boto, "apigateway")
    call(apigw.get_routes, ApiId="a1b2c3", MaxResults="10")
    take("boto3-apigatewayv2-get-routes", boto, "apigateway")

    url = lam.generate_presigned_url("get_function", Params={"FunctionName": "my-fn"}, ExpiresIn=300)
    urllib.request.urlopen(url).read()
    take("boto3-lambda-presigned", boto, "lambda")

    tok = boto3.session.Session(aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET,
                                aws_session_token="FwoGZXIvYXdzEXAMPLESESSIONTOKEN")
    call(tok.client("lambda", region_name=REGION, endpoint_url=endpoint, config=cfg).list_functions)
    take("boto3-lambda-session-token", boto, "lambda")

    # SigV4Auth on a hand-made URL: botocore normalises the path ("//", "./")
    # and signs the query exactly as written ("+" kept, not decoded).
    req = AWSRequest(method="GET",
                     url=endpoint + "/2015-03-31/functions//my-fn/./x/../configuration?b=2&a=1&a=&c=x+y",
                     headers={"Content-Type": "application/json", "X-Tarn-Note": "a   b"})
    SigV4Auth(Credentials(KEY_ID, SECRET), "lambda", REGION).add_auth(req)
    prepared = req.prepare()
    urllib.request.urlopen(urllib.request.Request(prepared.url, headers=dict(prepared.headers))).read()
    take("botocore-sigv4auth-unnormalised-url", boto, "lambda")

    # With a Date header botocore signs "date" and sends no X-Amz-Date.
    req = AWSRequest(method="POST", url=endpoint + "/2015-02-01/file-systems", data=b'{"CreationToken":"d"}',
                     headers={"Date": "Thu, 01 Jan 1970 00:00:00 GMT", "Content-Type": "application/json"})
    SigV4Auth(Credentials(KEY_ID, SECRET), "elasticfilesystem", REGION).add_auth(req)
    prepared = req.prepare()
    urllib.request.urlopen(urllib.request.Request(prepared.url, data=prepared.body,
                                                  headers=dict(prepared.headers))).read()
    take("botocore-sigv4auth-date-header", boto, "elasticfilesystem")

    cli = subprocess.run(["/usr/bin/aws", "--version"], capture_output=True, text=True).stdout.split()[0]
    with tempfile.TemporaryDirectory() as home:
        env = {
            "HOME": home, "PATH": "/usr/bin:/bin",
            "AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET,
            "AWS_DEFAULT_REGION": REGION, "AWS_MAX_ATTEMPTS": "1", "AWS_PAGER": "",
            "AWS_CONFIG_FILE": os.path.join(home, "config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, "credentials"),
        }

        def aws(name, service, *args):
            subprocess.run(["/usr/bin/aws", "--endpoint-url", endpoint, *args], env=env, cwd=home,
                           capture_output=True)
            take(name, cli, service, env["AWS_DEFAULT_REGION"])

        aws("cli-lambda-list-functions", "lambda", "lambda", "list-functions")
        aws("cli-lambda-invoke", "lambda", "lambda", "invoke", "--function-name",
            "arn:aws:lambda:us-west-2:123456789012:function:my-fn", "--qualifier", "$LATEST",
            "--cli-binary-format", "raw-in-base64-out", "--payload", '{"k":"v"}', "out.json")
        aws("cli-efs-describe-file-systems", "elasticfilesystem", "efs", "describe-file-systems",
            "--creation-token", "a b")
        aws("cli-efs-create-access-point", "elasticfilesystem", "efs", "create-access-point",
            "--file-system-id", "fs-12345678", "--root-directory", "Path=/data dir")
        env["AWS_DEFAULT_REGION"] = "us-east-1"
        aws("cli-iam-list-users", "iam", "iam", "list-users")
        env["AWS_DEFAULT_REGION"] = REGION
        aws("cli-apigatewayv2-create-api", "apigateway", "apigatewayv2", "create-api",
            "--name", "wall", "--protocol-type", "HTTP")

    srv.shutdown()


if __name__ == "__main__":
    main()
