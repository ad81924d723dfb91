//! What one CAM API action is: its parameters, the admin requests it plans
//! from them, and how it renders their typed replies. [`Entry`] erases the
//! type so a [`Service`](super::Service) can list its actions in one table.

use serde_json::Value;

use crate::code::{Code, Failure};
use crate::protocol::{Body, Op, Reply, ReplyShape};

use super::{Directory, Params};

/// One CAM API action, defined once: everything about it is here.
pub trait Action: Sized + Send + 'static {
    /// The action's name, as in `X-TC-Action`.
    const NAME: &'static str;
    /// The parameters it takes (any other is `UnknownParameter`).
    const PARAMS: &'static [&'static str];
    /// Its requests are independent of each other: run together, they
    /// reach the writer as one batch (one commit), not one each.
    const INDEPENDENT: bool = false;
    /// The admin operation it runs.
    type Op: Op;
    /// Reads the parameters and resolves CAM's ids: what rendering needs,
    /// and the requests to run, in order (the first failure stops the call).
    fn plan(p: &Params, dir: &dyn Directory) -> Result<(Self, Vec<Self::Op>), Failure>;
    /// The response fields, from the replies of every request (in order);
    /// by default none but the RequestId.
    fn render(self, replies: Vec<Out<Self>>, dir: &dyn Directory) -> Result<Value, Failure> {
        let _ = (self, replies, dir);
        Ok(Value::Object(serde_json::Map::new()))
    }
}

/// The typed reply of an action's operation.
pub type Out<A> = <<A as Action>::Op as Op>::Reply;

/// The last reply (the one most actions show).
pub fn last<T>(replies: Vec<T>) -> Result<T, Failure> {
    replies
        .into_iter()
        .last()
        .ok_or_else(|| Failure::new(Code::Dispatch, "the action ran no request"))
}

/// How a call's replies become its response.
type Render = Box<dyn FnOnce(Vec<Reply>, &dyn Directory) -> Result<Value, Failure> + Send>;

/// The requests one call runs, and how their replies are shown.
pub struct Plan {
    /// Admin requests, run in order; the first failure stops the call.
    pub bodies: Vec<Body>,
    /// The requests may run together (see [`Action::INDEPENDENT`]).
    pub independent: bool,
    render: Render,
}

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the bodies themselves: they may hold a password.
        f.debug_struct("Plan")
            .field("requests", &self.bodies.len())
            .field("independent", &self.independent)
            .finish_non_exhaustive()
    }
}

impl Plan {
    /// The response fields over the replies of `bodies`, in order.
    pub fn render(self, replies: Vec<Reply>, dir: &dyn Directory) -> Result<Value, Failure> {
        (self.render)(replies, dir)
    }
}

/// The failure of a reply that is not the shape an action expects (a bug).
fn unexpected(reply: &Reply) -> Failure {
    Failure::new(
        Code::Dispatch,
        format!("unexpected reply {:?}", std::mem::discriminant(reply)),
    )
}

/// An action with its type erased, as a service lists it.
#[derive(Clone, Copy)]
pub struct Entry {
    /// The action's name.
    pub name: &'static str,
    /// The parameters it takes.
    pub params: &'static [&'static str],
    plan: fn(&Params, &dyn Directory) -> Result<Plan, Failure>,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("name", &self.name)
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl Entry {
    /// The entry of action `A`.
    pub const fn of<A: Action>() -> Self {
        Self {
            name: A::NAME,
            params: A::PARAMS,
            plan: erased::<A>,
        }
    }

    /// The plan of a call with JSON parameters `body`.
    pub fn plan(&self, body: &[u8], dir: &dyn Directory) -> Result<Plan, Failure> {
        let p = Params::parse(body, self.params)?;
        (self.plan)(&p, dir)
    }
}

fn erased<A: Action>(p: &Params, dir: &dyn Directory) -> Result<Plan, Failure> {
    let (action, ops) = A::plan(p, dir)?;
    Ok(Plan {
        bodies: ops.into_iter().map(Op::into_body).collect(),
        independent: A::INDEPENDENT,
        render: Box::new(move |replies, dir| {
            let typed = replies
                .into_iter()
                .map(|r| Out::<A>::from_reply(r).map_err(|r| unexpected(&r)))
                .collect::<Result<Vec<_>, _>>()?;
            action.render(typed, dir)
        }),
    })
}
