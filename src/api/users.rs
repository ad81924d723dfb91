//! CAM's actions on sub-users: AddUser, GetUser, ListUsers, UpdateUser,
//! DeleteUser.

use serde_json::{Map, Value, json};

use crate::code::Failure;
use crate::protocol::{self as op, Credentials, UserInfo};

use super::action::{Action, last};
use super::{Directory, Params, fields};

/// Creates a sub-user.
pub struct AddUser;

impl Action for AddUser {
    const NAME: &'static str = "AddUser";
    const PARAMS: &'static [&'static str] = &[
        "Name",
        "Remark",
        "ConsoleLogin",
        "UseApi",
        "Password",
        "NeedResetPassword",
        "PhoneNum",
        "CountryCode",
        "Email",
    ];
    type Op = op::AddUser;

    fn plan(p: &Params, _: &dyn Directory) -> Result<(Self, Vec<op::AddUser>), Failure> {
        let op = op::AddUser {
            name: p.str("Name")?,
            remark: p.text("Remark")?,
            console_login: p.opt_flag("ConsoleLogin")?.unwrap_or(false),
            password: p.opt_str("Password")?,
            need_reset_password: p.opt_flag("NeedResetPassword")?.unwrap_or(false),
            use_api: p.opt_flag("UseApi")?.unwrap_or(false),
            email: p.text("Email")?,
            phone: p.text("PhoneNum")?,
            policies: Vec::new(),
        };
        Ok((Self, vec![op]))
    }

    fn render(self, replies: Vec<Credentials>, _: &dyn Directory) -> Result<Value, Failure> {
        let c = last(replies)?;
        let mut m = Map::new();
        m.insert("Uin".into(), json!(c.uin));
        m.insert("Uid".into(), json!(c.uin));
        m.insert("Name".into(), json!(c.name));
        for (k, v) in [
            ("Password", c.password.as_ref()),
            ("SecretId", c.secret_id.as_ref()),
            ("SecretKey", c.secret_key.as_ref()),
        ] {
            if let Some(v) = v {
                m.insert(k.into(), json!(v));
            }
        }
        Ok(Value::Object(m))
    }
}

/// One sub-user.
pub struct GetUser;

impl Action for GetUser {
    const NAME: &'static str = "GetUser";
    const PARAMS: &'static [&'static str] = &["Name"];
    type Op = op::GetUser;

    fn plan(p: &Params, _: &dyn Directory) -> Result<(Self, Vec<op::GetUser>), Failure> {
        Ok((
            Self,
            vec![op::GetUser {
                name: p.str("Name")?,
            }],
        ))
    }

    /// With the last console sign-in's address and time: empty until the
    /// console exists.
    fn render(self, replies: Vec<UserInfo>, _: &dyn Directory) -> Result<Value, Failure> {
        let u = fields::user(&last(replies)?);
        let u = fields::with(u, "RecentlyLoginIP", json!(""));
        Ok(fields::with(u, "RecentlyLoginTime", json!("")))
    }
}

/// Every sub-user.
pub struct ListUsers;

impl Action for ListUsers {
    const NAME: &'static str = "ListUsers";
    const PARAMS: &'static [&'static str] = &[];
    type Op = op::ListUsers;

    fn plan(_: &Params, _: &dyn Directory) -> Result<(Self, Vec<op::ListUsers>), Failure> {
        Ok((Self, vec![op::ListUsers]))
    }

    fn render(self, replies: Vec<Vec<UserInfo>>, _: &dyn Directory) -> Result<Value, Failure> {
        let us = last(replies)?;
        Ok(json!({ "Data": us.iter().map(fields::user).collect::<Vec<_>>() }))
    }
}

/// Changes a sub-user.
pub struct UpdateUser;

impl Action for UpdateUser {
    const NAME: &'static str = "UpdateUser";
    const PARAMS: &'static [&'static str] = &[
        "Name",
        "Remark",
        "ConsoleLogin",
        "Password",
        "NeedResetPassword",
        "PhoneNum",
        "CountryCode",
        "Email",
    ];
    type Op = op::UpdateUser;

    fn plan(p: &Params, _: &dyn Directory) -> Result<(Self, Vec<op::UpdateUser>), Failure> {
        let op = op::UpdateUser {
            name: p.str("Name")?,
            new_name: None,
            remark: p.opt_str("Remark")?,
            console_login: p.opt_flag("ConsoleLogin")?,
            password: p.opt_str("Password")?,
            need_reset_password: p.opt_flag("NeedResetPassword")?,
            email: p.opt_str("Email")?,
            phone: p.opt_str("PhoneNum")?,
        };
        Ok((Self, vec![op]))
    }
}

/// Deletes a sub-user (`Force`: with their keys).
pub struct DeleteUser;

impl Action for DeleteUser {
    const NAME: &'static str = "DeleteUser";
    const PARAMS: &'static [&'static str] = &["Name", "Force"];
    type Op = op::DeleteUser;

    fn plan(p: &Params, _: &dyn Directory) -> Result<(Self, Vec<op::DeleteUser>), Failure> {
        let op = op::DeleteUser {
            name: p.str("Name")?,
            force: p.opt_flag("Force")?.unwrap_or(false),
        };
        Ok((Self, vec![op]))
    }
}
