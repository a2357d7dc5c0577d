"""The message wall: an HTTP API over one file on a shared file system.

GET lists the messages, POST appends the request body as a new line and
answers with every message so far, DELETE removes them all. Every execution
environment of the function, and any host that mounts the file system, sees
the same file; flock serializes writers across all of them.
"""

import base64
import fcntl
import os

# The access point's root directory (/message on the file system) is mounted
# here; see LocalMountPath in the function's file system configuration.
MSG_FILE_PATH = os.environ.get("MSG_FILE_PATH", "/mnt/msg/content")

NO_MESSAGE = "No message yet."


def read_messages():
    """Returns the whole wall, read under a shared lock."""
    try:
        with open(MSG_FILE_PATH, "r", encoding="utf-8") as f:
            fcntl.flock(f, fcntl.LOCK_SH)
            try:
                content = f.read()
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)
    except FileNotFoundError:
        return NO_MESSAGE
    return content or NO_MESSAGE


def append_message(message):
    """Appends one line under an exclusive lock and returns the whole wall.

    The line is written and flushed, and the file read back, while the lock
    is held, so concurrent writers never interleave and each answer shows
    the wall exactly as this append left it.
    """
    with open(MSG_FILE_PATH, "a+", encoding="utf-8") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            f.write(message + "\n")
            f.flush()
            f.seek(0)
            return f.read()
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def delete_messages():
    try:
        os.remove(MSG_FILE_PATH)
    except FileNotFoundError:
        pass
    return "Messages deleted."


def request_body(event):
    """Returns the request body as text, or None when there is none.

    API Gateway passes text/plain bodies as they are and anything else, such
    as curl's default application/x-www-form-urlencoded, in base64.
    """
    body = event.get("body")
    if not body:
        return None
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8")
    return body


def handler(event, context):
    method = event["requestContext"]["http"]["method"]
    if method == "GET":
        return read_messages()
    if method == "POST":
        message = request_body(event)
        if message is None:
            return {"statusCode": 400, "headers": {"content-type": "text/plain"},
                    "body": "POST a message in the request body.\n"}
        return append_message(message)
    if method == "DELETE":
        return delete_messages()
    return "Method unsupported."
