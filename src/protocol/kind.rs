//! Where a policy comes from, as the wire names it.

use serde::{Deserialize, Serialize};

/// Where a policy comes from. On the wire by the names camd has always
/// sent (`Preset`, `Custom` for a file, `Api` for an API-managed one), as a
/// string in both encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// One of camd's preset policies (CAM's "QCS" policies).
    Preset,
    /// A file in the policy folder ("file-managed").
    File,
    /// Created through the API and kept in the store ("API-managed").
    Managed,
}

impl PolicyKind {
    /// Its name on the wire.
    pub const fn wire_name(self) -> &'static str {
        match self {
            PolicyKind::Preset => "Preset",
            PolicyKind::File => "Custom",
            PolicyKind::Managed => "Api",
        }
    }

    /// The kind a wire name names.
    pub fn from_wire_name(name: &str) -> Option<Self> {
        [PolicyKind::Preset, PolicyKind::File, PolicyKind::Managed]
            .into_iter()
            .find(|k| k.wire_name() == name)
    }

    /// How messages name it (`preset`, `file-managed`, `api-managed`).
    pub const fn as_str(self) -> &'static str {
        match self {
            PolicyKind::Preset => "preset",
            PolicyKind::File => "file-managed",
            PolicyKind::Managed => "api-managed",
        }
    }
}

impl std::fmt::Display for PolicyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.wire_name())
    }
}

impl Serialize for PolicyKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.wire_name())
    }
}

impl<'de> Deserialize<'de> for PolicyKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(d)?;
        PolicyKind::from_wire_name(&name).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown policy kind `{}`",
                name.chars().take(32).collect::<String>()
            ))
        })
    }
}
