//! A CAM API call's JSON parameters, read by name with CAM's types: a
//! missing one is `MissingParameter`, a wrong type `InvalidParameter`, a
//! value out of range `InvalidParameterValue`, one the action does not take
//! `UnknownParameter` (Tencent Cloud API 3.0's common codes).

use serde_json::{Map, Value};

use crate::code::{Code, Failure};

/// The parameters of one call.
pub struct Params {
    map: Map<String, Value>,
}

fn missing(name: &str) -> Failure {
    Failure::new(
        Code::MissingParameter,
        format!("parameter `{name}` is missing"),
    )
}

/// A parameter of the wrong type.
fn wrong(name: &str, want: &str) -> Failure {
    Failure::new(
        Code::InvalidParameter,
        format!("parameter `{name}` must be {want}"),
    )
}

/// A parameter whose value is out of range.
pub fn bad_value(name: &str, want: &str) -> Failure {
    Failure::new(
        Code::InvalidParameterValue,
        format!("parameter `{name}` must be {want}"),
    )
}

impl Params {
    /// Parses a body (`{}` when empty) and refuses names outside `allowed`.
    pub fn parse(body: &[u8], allowed: &[&str]) -> Result<Self, Failure> {
        let value: Value = if body.iter().all(u8::is_ascii_whitespace) {
            Value::Object(Map::new())
        } else {
            serde_json::from_slice(body).map_err(|e| {
                Failure::new(
                    Code::InvalidParameter,
                    format!("the request body is not JSON: {e}"),
                )
            })?
        };
        let Value::Object(map) = value else {
            return Err(Failure::new(
                Code::InvalidParameter,
                "the request body must be a JSON object",
            ));
        };
        if let Some(bad) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(Failure::new(
                Code::UnknownParameter,
                format!(
                    "parameter `{}` is not one this action takes ({})",
                    bad.chars().take(64).collect::<String>(),
                    allowed.join(", ")
                ),
            ));
        }
        Ok(Self { map })
    }

    fn get(&self, name: &str) -> Option<&Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    /// An optional string.
    pub fn opt_str(&self, name: &str) -> Result<Option<String>, Failure> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(wrong(name, "a string")),
        }
    }

    /// An optional string, empty when absent.
    pub fn text(&self, name: &str) -> Result<String, Failure> {
        self.opt_str(name).map(Option::unwrap_or_default)
    }

    /// A required string.
    pub fn str(&self, name: &str) -> Result<String, Failure> {
        self.opt_str(name)?.ok_or_else(|| missing(name))
    }

    /// An optional non-negative integer.
    pub fn opt_u64(&self, name: &str) -> Result<Option<u64>, Failure> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| wrong(name, "a non-negative integer")),
        }
    }

    /// An optional id given as an integer or as a string of digits (CAM's
    /// models type RoleId both ways).
    pub fn opt_id(&self, name: &str) -> Result<Option<u64>, Failure> {
        match self.get(name) {
            Some(Value::String(s)) => s
                .trim()
                .parse::<u64>()
                .map(Some)
                .map_err(|_| wrong(name, "an id (digits)")),
            _ => self.opt_u64(name),
        }
    }

    /// A required non-negative integer.
    pub fn u64(&self, name: &str) -> Result<u64, Failure> {
        self.opt_u64(name)?.ok_or_else(|| missing(name))
    }

    /// An optional 0/1 flag.
    pub fn opt_flag(&self, name: &str) -> Result<Option<bool>, Failure> {
        match self.opt_u64(name)? {
            None => Ok(None),
            Some(0) => Ok(Some(false)),
            Some(1) => Ok(Some(true)),
            Some(_) => Err(bad_value(name, "0 or 1")),
        }
    }

    /// A required boolean (`true`/`false`, or CAM's 0/1).
    pub fn bool(&self, name: &str) -> Result<bool, Failure> {
        match self.get(name) {
            None => Err(missing(name)),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => self.opt_flag(name)?.ok_or_else(|| missing(name)),
        }
    }

    /// A required, non-empty list of non-negative integers.
    pub fn u64_list(&self, name: &str) -> Result<Vec<u64>, Failure> {
        let Some(v) = self.get(name) else {
            return Err(missing(name));
        };
        let items = v
            .as_array()
            .ok_or_else(|| wrong(name, "a list of integers"))?;
        if items.is_empty() {
            return Err(bad_value(name, "at least one id"));
        }
        items
            .iter()
            .map(|i| i.as_u64().ok_or_else(|| wrong(name, "a list of integers")))
            .collect()
    }

    /// A required, non-empty list of strings.
    pub fn str_list(&self, name: &str) -> Result<Vec<String>, Failure> {
        let Some(v) = self.get(name) else {
            return Err(missing(name));
        };
        let items = v
            .as_array()
            .ok_or_else(|| wrong(name, "a list of strings"))?;
        if items.is_empty() {
            return Err(bad_value(name, "at least one item"));
        }
        items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| wrong(name, "a list of strings"))
            })
            .collect()
    }

    /// At most `max` items of a list, else `InvalidParameterValue`.
    pub fn at_most<T>(name: &str, items: Vec<T>, max: usize) -> Result<Vec<T>, Failure> {
        if items.len() > max {
            return Err(bad_value(
                name,
                &format!("a list of at most {max} items (it has {})", items.len()),
            ));
        }
        Ok(items)
    }

    /// A required object, read as parameters of its own.
    pub fn object(&self, name: &str, allowed: &[&str]) -> Result<Params, Failure> {
        match self.get(name) {
            None => Err(missing(name)),
            Some(v @ Value::Object(_)) => {
                Params::parse(&serde_json::to_vec(v).unwrap_or_default(), allowed)
            }
            Some(_) => Err(wrong(name, "an object")),
        }
    }

    /// An optional list of objects (empty when absent).
    pub fn opt_list(&self, name: &str, allowed: &[&str]) -> Result<Vec<Params>, Failure> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(_) => self.list(name, allowed),
        }
    }

    /// A required list of objects, each read as parameters of its own.
    pub fn list(&self, name: &str, allowed: &[&str]) -> Result<Vec<Params>, Failure> {
        let Some(Value::Array(items)) = self.get(name) else {
            return Err(match self.get(name) {
                None => missing(name),
                Some(_) => wrong(name, "a list"),
            });
        };
        items
            .iter()
            .map(|item| {
                let bytes = serde_json::to_vec(item).unwrap_or_default();
                Params::parse(&bytes, allowed)
            })
            .collect()
    }

    /// Page (from 1) and Rp (1-200), with CAM's defaults (1 and 20).
    pub fn paging(&self) -> Result<Paging, Failure> {
        let page = self.opt_u64("Page")?.unwrap_or(1);
        let rp = self.opt_u64("Rp")?.unwrap_or(20);
        if page == 0 {
            return Err(bad_value("Page", "at least 1"));
        }
        if !(1..=200).contains(&rp) {
            return Err(bad_value("Rp", "between 1 and 200"));
        }
        Ok(Paging { page, rp })
    }
}

/// One page of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// From 1.
    pub page: u64,
    /// Items per page.
    pub rp: u64,
}

impl Default for Paging {
    fn default() -> Self {
        Self { page: 1, rp: 200 }
    }
}

impl Paging {
    /// The page of `items`, and how many there are in all.
    pub fn take<T>(&self, items: Vec<T>) -> (Vec<T>, usize) {
        let total = items.len();
        let skip = usize::try_from((self.page - 1).saturating_mul(self.rp)).unwrap_or(usize::MAX);
        let rp = usize::try_from(self.rp).unwrap_or(usize::MAX);
        (items.into_iter().skip(skip).take(rp).collect(), total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_and_names_are_checked() {
        let p = Params::parse(
            br#"{"Name":"a","ConsoleLogin":1,"Rp":5}"#,
            &["Name", "ConsoleLogin", "Rp"],
        )
        .unwrap();
        assert_eq!(p.str("Name").unwrap(), "a");
        assert_eq!(p.opt_flag("ConsoleLogin").unwrap(), Some(true));
        assert_eq!(p.u64("Name").unwrap_err().code, Code::InvalidParameter);
        assert_eq!(
            Params::parse(br#"{"Rp":500}"#, &["Rp"])
                .unwrap()
                .paging()
                .unwrap_err()
                .code,
            Code::InvalidParameterValue
        );
        assert_eq!(p.str("Remark").unwrap_err().code, Code::MissingParameter);
        assert_eq!(
            Params::parse(br#"{"Nope":1}"#, &["Name"])
                .err()
                .map(|e| e.code),
            Some(Code::UnknownParameter)
        );
        assert_eq!(
            Params::parse(b"[1]", &[]).err().map(|e| e.code),
            Some(Code::InvalidParameter)
        );
        let (page, total) = Paging { page: 2, rp: 2 }.take(vec![1, 2, 3, 4, 5]);
        assert_eq!((page, total), (vec![3, 4], 5));
    }
}
