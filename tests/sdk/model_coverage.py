"""Checks camd-api against the models in Tencent's own SDK (tencentcloud-sdk-python-cam):
which CAM actions it serves, that it knows every request parameter of those, and that
its answers carry every response field; prints what it found as one JSON object."""
import json
import re
import sys
import time

from tencentcloud.cam.v20190116 import cam_client, models
from tencentcloud.common import credential
from tencentcloud.common.abstract_model import AbstractModel
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile

endpoint, protocol, ca, admin_id, admin_key = sys.argv[1:6]


def client(secret_id, secret_key):
    if protocol == "http":
        profile = HttpProfile(protocol="http", endpoint=endpoint)
    else:
        profile = HttpProfile(endpoint=endpoint, certification=ca)
    return cam_client.CamClient(
        credential.Credential(secret_id, secret_key), "ap-guangzhou", ClientProfile(httpProfile=profile)
    )


admin = client(admin_id, admin_key)
ACTIONS = sorted(
    n for n in dir(cam_client.CamClient) if not n.startswith("_") and hasattr(models, n + "Request")
)
READ = re.compile(r"^(Get|List|Describe)")
out = {
    "total": len(ACTIONS),
    "served": [],
    "not_served": [],
    "unknown_parameters": {},
    "missing_fields": {},
    "checked_fields": {},
    "empty_lists": {},  # list fields that came back empty, so their items went unchecked
    "wrong_types": {},  # a JSON value of another type than the model's (breaks typed SDKs)
    "errors": {},
}


def fields(cls):
    """A model's fields (set in its __init__) and their docstring types: "int", "list of Tag"..."""
    found = {}
    for attr in vars(cls()):
        name = attr.lstrip("_")
        m = re.search(r":rtype: (.+)", getattr(cls, name).__doc__ or "") or re.search(
            rf":type {name}: (.+)", cls.__init__.__doc__ or ""
        )
        found[name] = m.group(1).strip() if m else "unknown"
    return found


def struct_of(kind):
    """The model a type names, alone or as a list's items (None for str, int, ...)."""
    name = kind.removeprefix("list of ").split(".")[-1].strip("`")
    cls = getattr(models, name, None)
    return cls if isinstance(cls, type) and issubclass(cls, AbstractModel) else None


def sample(kind, seed, depth=0):
    """A value of that type that names nothing real, and differs from one seed to the next."""
    if kind.startswith("list of "):
        return [sample(kind.removeprefix("list of "), seed, depth)]
    cls = struct_of(kind)
    if cls:
        return {f: sample(k, seed, depth + 1) for f, k in fields(cls).items()} if depth < 2 else {}
    if kind.startswith("int"):
        return 990000 + seed
    return False if kind == "bool" else f"cov-probe-{seed}"


signed = {}  # request body -> (action, the last second it may have been signed in)


def call(action, params):
    """The raw JSON "Response" (so missing keys show); raises on an error code.

    The SDK signs only the body and the second, and camd refuses one signature used for
    two actions when either is a change: such a body waits for the next second."""
    body = json.dumps(params)
    last, second = signed.get(body, (action, -1))
    clash = last != action and not (READ.match(last) and READ.match(action))
    while clash and int(time.time()) <= second:
        time.sleep(0.05)
    try:
        return admin.call_json(action, params)["Response"]
    finally:
        signed[body] = (action, int(time.time()))


def attempt(action, params):
    """(None, None, response) or (code, message, None); never raises."""
    try:
        return None, None, call(action, params)
    except TencentCloudSDKException as e:
        return e.get_code(), e.get_message(), None
    except Exception as e:  # noqa: one action's failure is recorded, not fatal
        return "Crash", repr(e), None


def mistyped(kind, value):
    """Whether a JSON value cannot be the model's type (null always can: "may return null")."""
    if value is None:
        return False
    if kind.startswith("list of "):
        return not isinstance(value, list)
    if struct_of(kind):
        return not isinstance(value, dict)
    expected = {"int": int, "bool": bool, "str": str}.get(kind.split()[0])
    return expected is not None and type(value) is not expected


def check(action, response):
    """Every field of <action>Response in the JSON, and one level down into structs."""
    missing, empty, wrong, n = [], [], [], 0

    def look(prefix, cls, obj):
        nonlocal n
        for f, kind in fields(cls).items():
            if f == "RequestId":
                continue
            n += 1
            if f not in obj:
                missing.append(prefix + f)
            elif mistyped(kind, obj[f]):
                wrong.append(f"{prefix}{f}: {kind}, not {json.dumps(obj[f])[:40]}")

    look("", getattr(models, action + "Response"), response)
    for f, kind in fields(getattr(models, action + "Response")).items():
        cls, value = struct_of(kind), response.get(f)
        if cls and value == []:
            empty.append(f)
        item = value[0] if isinstance(value, list) and value else value
        if cls and isinstance(item, dict):
            look(cls.__name__ + ".", cls, item)
    out["checked_fields"][action] = n
    for key, found in [("missing_fields", missing), ("empty_lists", empty), ("wrong_types", wrong)]:
        if found:
            out[key][action] = found


def step(action, params):
    """Runs a call that should succeed and checks its answer; {} (and an error) when not."""
    if action not in out["served"]:
        return {}
    code, message, response = attempt(action, params)
    if code:
        out["errors"][action] = f"{code}: {message}"
        return {}
    check(action, response)
    return response


# 1. Which actions camd serves, and whether it knows every parameter of those:
# every request field at once, with values that name nothing real; an unknown
# one is named in the message, left out, and the call sent again.
for seed, action in enumerate(ACTIONS):
    params = {f: sample(k, seed) for f, k in fields(getattr(models, action + "Request")).items()}
    unknown = []
    while True:
        code, message, _ = attempt(action, params)
        named = re.search(r"parameter `([^`]*)`", message or "")
        if code != "UnknownParameter" or not named or named.group(1) not in params:
            break
        unknown.append(named.group(1))
        del params[named.group(1)]
    if code == "InvalidAction":
        out["not_served"].append(action)
        continue
    out["served"].append(action)
    if unknown:
        out["unknown_parameters"][action] = unknown
    if code == "UnknownParameter" or code == "Crash" or (code or "").startswith("AuthFailure"):
        out["errors"][action] = f"{code}: {message}"  # the parameters were not all checked

# 2. Real state, so that reads succeed and have something to show.
DOC = json.dumps(
    {"version": "2.0", "statement": [{"effect": "allow", "action": ["name/im:DescribeAppStatList"], "resource": ["*"]}]}
)
user = step("AddUser", {"Name": "cov-user", "UseApi": 1, "ConsoleLogin": 0, "Remark": "coverage"})
uin, uid = user.get("Uin"), user.get("Uid")
gid = step("CreateGroup", {"GroupName": "cov-group", "Remark": "coverage"}).get("GroupId")
policy = {"PolicyName": "cov-policy", "PolicyDocument": DOC, "Description": "coverage"}
if "Tags" not in out["unknown_parameters"].get("CreatePolicy", []):
    policy["Tags"] = [{"Key": "team", "Value": "coverage"}]
pid = step("CreatePolicy", policy).get("PolicyId")
step("CreatePolicyVersion", {"PolicyId": pid, "PolicyDocument": DOC, "SetAsDefault": False})
step("AddUserToGroup", {"Info": [{"Uid": uid, "GroupId": gid}]})
step("AttachUserPolicy", {"PolicyId": pid, "AttachUin": uin})
step("AttachGroupPolicy", {"PolicyId": pid, "AttachGroupId": gid})
step("PutUserPermissionsBoundary", {"TargetUin": uin, "PolicyId": pid})
key = step("CreateAccessKey", {"TargetUin": uin, "Description": "coverage"}).get("AccessKey") or {}
owner = call("GetUserAppId", {}).get("OwnerUin")
TRUST = json.dumps(
    {"version": "2.0", "statement": [{"effect": "allow", "action": "name/sts:AssumeRole",
                                      "principal": {"qcs": [f"qcs::cam::uin/{owner}:uin/{uin}"]}}]}
)
role = {"RoleName": "cov-role", "PolicyDocument": TRUST, "Description": "coverage", "SessionDuration": 3600}
rid = step("CreateRole", dict(role, Tags=[{"Key": "team", "Value": "coverage"}])).get("RoleId")
step("AttachRolePolicy", {"PolicyId": pid, "AttachRoleId": rid})
step("PutRolePermissionsBoundary", {"RoleId": rid, "PolicyId": pid})

# 3. Every served read, its parameters filled in by name from that state.
known = {
    "Name": "cov-user",
    "TargetUin": uin,
    "SubUin": uin,
    "Uid": uid,
    "FilterSubAccountUin": [uin],
    "GroupId": gid,
    "TargetGroupId": gid,
    "PolicyId": pid,
    "RoleId": rid,
    "RoleName": "cov-role",
    "VersionId": 1,
    "SecretIdList": [admin_id, key.get("AccessKeyId") or user.get("SecretId")],  # one used, one not
    "AttachType": 0,  # direct and through groups
    "Page": 1,
    "Rp": 20,
    "Offset": 0,
    "Limit": 20,
    "MaxItems": 20,
}
for action in out["served"]:
    if READ.match(action):
        request = fields(getattr(models, action + "Request"))
        step(action, {f: known[f] for f in request if f in known})

print(json.dumps(out, sort_keys=True))
