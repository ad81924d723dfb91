//! Authorization against an immutable snapshot: who exists, which keys are
//! theirs, and each principal's compiled policies. The writer publishes a new
//! snapshot after every commit; deciding reads the current one without a lock
//! and never touches the disk.

mod authorizer;
mod publisher;
mod shards;
mod signed;
mod snapshot;

pub use authorizer::{Ask, Authorizer, AuthzError, View, Who};
pub use publisher::Publisher;
pub use shards::{Key, Name, SHARDS, Sharded};
pub use signed::{SignedAsk, Verified};
pub use snapshot::{KeyEntry, SigningKey, Snapshot, UserEntry};
