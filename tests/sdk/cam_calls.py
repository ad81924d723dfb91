"""Drives camd-api with Tencent's official Python SDK (tencentcloud-sdk-python-cam),
exactly as a customer's code would, and prints what happened as one JSON object."""
import json
import sys

from tencentcloud.cam.v20190116 import cam_client, models
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile

endpoint, protocol, ca, admin_id, admin_key, weak_id, weak_key = sys.argv[1:8]


def client(secret_id, secret_key):
    if protocol == "http":
        profile = HttpProfile(protocol="http", endpoint=endpoint)
    else:
        profile = HttpProfile(endpoint=endpoint, certification=ca)
    return cam_client.CamClient(
        credential.Credential(secret_id, secret_key), "ap-guangzhou", ClientProfile(httpProfile=profile)
    )


def refused(call):
    try:
        call()
    except TencentCloudSDKException as e:
        return e.get_code()
    return None


admin = client(admin_id, admin_key)
out = {}

req = models.AddUserRequest()
req.Name = "sdk-" + protocol
req.UseApi = 1
req.ConsoleLogin = 0
req.Remark = "made by the official SDK"
made = admin.AddUser(req)
out["added"] = {"Uin": made.Uin, "Name": made.Name, "HasKey": bool(made.SecretId and made.SecretKey)}

req = models.ListPoliciesRequest()
req.Scope = "QCS"
req.Keyword = "ReadOnly"
policies = admin.ListPolicies(req)
policy_id = [p.PolicyId for p in policies.List if p.PolicyName == "QcloudChatReadOnlyAccess"][0]

req = models.AttachUserPolicyRequest()
req.PolicyId = policy_id
req.AttachUin = made.Uin
admin.AttachUserPolicy(req)


def attached():
    req = models.ListAttachedUserPoliciesRequest()
    req.TargetUin = made.Uin
    return [p.PolicyName for p in admin.ListAttachedUserPolicies(req).List]


out["attached"] = attached()

req = models.DetachUserPolicyRequest()
req.PolicyId = policy_id
req.DetachUin = made.Uin
admin.DetachUserPolicy(req)
out["after_detach"] = attached()

req = models.ListAccessKeysRequest()
req.TargetUin = made.Uin
out["keys"] = [k.Status for k in admin.ListAccessKeys(req).AccessKeys]

out["users"] = sorted(u.Name for u in admin.ListUsers(models.ListUsersRequest()).Data)

# Custom policies with versions and a permissions boundary, through the API.
allow_im = json.dumps({"version": "2.0", "statement": [{"effect": "allow", "action": "im:*", "resource": "*"}]})
send_only = json.dumps({"version": "2.0", "statement": [{"effect": "allow", "action": "im:SendMessage", "resource": "*"}]})
req = models.CreatePolicyRequest()
req.PolicyName = "sdk-policy-" + protocol
req.PolicyDocument = allow_im
req.Description = "made by the official SDK"
pid = admin.CreatePolicy(req).PolicyId
req = models.GetPolicyRequest()
req.PolicyId = pid
got = admin.GetPolicy(req)
out["policy"] = {"Name": got.PolicyName, "Type": got.Type, "Same": json.loads(got.PolicyDocument) == json.loads(allow_im)}
req = models.CreatePolicyRequest()
req.PolicyName = "sdk-bad-" + protocol
req.PolicyDocument = json.dumps({"version": "2.0", "statement": [{"effect": "allow", "action": "im:Nope", "resource": "*"}]})
out["bad_document"] = refused(lambda: admin.CreatePolicy(req))
req = models.CreatePolicyVersionRequest()
req.PolicyId = pid
req.PolicyDocument = send_only
req.SetAsDefault = True
v2 = admin.CreatePolicyVersion(req).VersionId
req = models.ListPolicyVersionsRequest()
req.PolicyId = pid
out["versions"] = [[v.VersionId, v.IsDefaultVersion] for v in admin.ListPolicyVersions(req).Versions]
req = models.GetPolicyVersionRequest()
req.PolicyId = pid
req.VersionId = v2
out["v2_is_send_only"] = json.loads(admin.GetPolicyVersion(req).PolicyVersion.Document) == json.loads(send_only)
req = models.DeletePolicyVersionRequest()
req.PolicyId = pid
req.VersionId = [v2]
out["delete_default"] = refused(lambda: admin.DeletePolicyVersion(req))
req = models.SetDefaultPolicyVersionRequest()
req.PolicyId = pid
req.VersionId = 1
admin.SetDefaultPolicyVersion(req)
req = models.DeletePolicyVersionRequest()
req.PolicyId = pid
req.VersionId = [v2]
admin.DeletePolicyVersion(req)
req = models.PutUserPermissionsBoundaryRequest()
req.TargetUin = made.Uin
req.PolicyId = pid
admin.PutUserPermissionsBoundary(req)
req = models.GetUserPermissionBoundaryRequest()
req.TargetUin = made.Uin
out["boundary"] = admin.GetUserPermissionBoundary(req).PolicyName
req = models.DeletePolicyRequest()
req.PolicyId = [pid]
out["delete_in_use"] = refused(lambda: admin.DeletePolicy(req))
# Same body as the GetUserPermissionBoundary above, and the SDK does not sign
# X-TC-Action: camd refuses a change that reuses a read's signature, so the
# change is signed a second later (a new X-TC-Timestamp).
import time

time.sleep(1.1)
req = models.DeleteUserPermissionsBoundaryRequest()
req.TargetUin = made.Uin
admin.DeleteUserPermissionsBoundary(req)
req = models.DeletePolicyRequest()
req.PolicyId = [pid]
admin.DeletePolicy(req)
req = models.GetPolicyRequest()
req.PolicyId = pid
out["after_delete_policy"] = refused(lambda: admin.GetPolicy(req))

req = models.DeleteUserRequest()
req.Name = made.Name
req.Force = 1
admin.DeleteUser(req)
out["after_delete"] = sorted(u.Name for u in admin.ListUsers(models.ListUsersRequest()).Data)

# A role: its trust policy names the reader, it gets a preset policy and a
# boundary; RoleId goes as a string where the model says string and as an
# integer where it says integer (UpdateRoleConsoleLogin, ...SessionDuration).
reader_uin = [u.Uin for u in admin.ListUsers(models.ListUsersRequest()).Data if u.Name == "reader"][0]
owner_uin = admin.GetUserAppId(models.GetUserAppIdRequest()).OwnerUin
trust = json.dumps({"version": "2.0", "statement": [{"effect": "allow", "action": "name/sts:AssumeRole",
                    "principal": {"qcs": [f"qcs::cam::uin/{owner_uin}:uin/{reader_uin}"]}}]})
req = models.CreateRoleRequest()
req.RoleName = "sdk-role-" + protocol
req.PolicyDocument = trust
req.Description = "made by the official SDK"
req.SessionDuration = 3600
tag = models.RoleTags()
tag.Key, tag.Value = "team", "chat"
req.Tags = [tag]
rid = admin.CreateRole(req).RoleId
req = models.CreateRoleRequest()
req.RoleName = "sdk-untrusting-" + protocol
req.PolicyDocument = json.dumps({"version": "2.0", "statement": [{"effect": "allow", "action": "name/sts:AssumeRole"}]})
out["role_without_principal"] = refused(lambda: admin.CreateRole(req))
req = models.AttachRolePolicyRequest()
req.AttachRoleId = rid
req.PolicyName = "QcloudChatReadOnlyAccess"
admin.AttachRolePolicy(req)
req = models.UpdateRoleConsoleLoginRequest()
req.RoleId = int(rid)
req.ConsoleLogin = 1
admin.UpdateRoleConsoleLogin(req)
req = models.UpdateRoleSessionDurationRequest()
req.RoleId = int(rid)
req.SessionDuration = 7200
admin.UpdateRoleSessionDuration(req)
req = models.GetRoleRequest()
req.RoleId = rid
info = admin.GetRole(req).RoleInfo
req = models.ListAttachedRolePoliciesRequest()
req.RoleName = info.RoleName
req.Page, req.Rp = 1, 20
attached_to_role = [p.PolicyName for p in admin.ListAttachedRolePolicies(req).List]
out["role"] = {"Name": info.RoleName, "SameId": info.RoleId == rid, "ConsoleLogin": info.ConsoleLogin,
               "SessionDuration": info.SessionDuration, "Tags": [[t.Key, t.Value] for t in info.Tags],
               "Trusts": json.loads(info.PolicyDocument) == json.loads(trust), "Arn": info.RoleArn,
               "Attached": attached_to_role}
time.sleep(1.1)
req = models.DeleteRoleRequest()
req.RoleId = rid
admin.DeleteRole(req)
req = models.GetRoleRequest()
req.RoleName = "sdk-role-" + protocol
out["after_delete_role"] = refused(lambda: admin.GetRole(req))

# A key whose user has no cam: rights is refused with CAM's code, though
# camd-api itself runs as the operator.
weak = client(weak_id, weak_key)
req = models.CreateGroupRequest()
req.GroupName = "not-allowed"
out["weak_create_group"] = refused(lambda: weak.CreateGroup(req))
out["weak_list_users"] = refused(lambda: weak.ListUsers(models.ListUsersRequest()))
# A wrong SecretKey, an unknown action, a bad parameter.
wrong = client(admin_id, "x" * 32)
out["wrong_key"] = refused(lambda: wrong.ListUsers(models.ListUsersRequest()))
out["unknown_action"] = refused(lambda: admin.call_json("NoSuchAction", {}))
out["bad_parameter"] = refused(lambda: admin.call_json("GetUser", {"Name": 7}))
out["bad_value"] = refused(lambda: admin.call_json("ListGroups", {"Rp": 500}))
out["missing_parameter"] = refused(lambda: admin.call_json("GetUser", {}))
out["no_such_user"] = refused(lambda: admin.call_json("GetUser", {"Name": "nobody-here"}))

# The SDK signs content-type and host only: a captured call resent with
# another X-TC-Action over the same signed body is refused, as is the same
# call resent as it was.
import requests  # the SDK's own HTTP library

captured = {}


def capture(action, params):
    req = admin._build_req_with_tc3_signature  # noqa: the SDK's signer, unchanged
    from tencentcloud.common.http.request import RequestInternal

    r = RequestInternal(endpoint, "POST", "/")
    req(action, params, r)
    captured["headers"], captured["body"] = dict(r.header), r.data


capture("GetUser", {"Name": "reader"})
url = ("http://" if protocol == "http" else "https://") + endpoint + "/"
verify = ca if protocol != "http" else True
first = requests.post(url, headers=captured["headers"], data=captured["body"], verify=verify).json()
out["captured_once"] = first["Response"].get("Name")
changed = dict(captured["headers"], **{"X-TC-Action": "DeleteUser"})
again = requests.post(url, headers=changed, data=captured["body"], verify=verify).json()
out["replayed"] = again["Response"].get("Error", {}).get("Code")
out["reader_still_there"] = "reader" in [u.Name for u in admin.ListUsers(models.ListUsersRequest()).Data]

print(json.dumps(out))
