//! Twilio's paging envelope: `{"<key>": [items], "meta": {page, page_size,
//! first_page_url, previous_page_url, url, next_page_url, key}}`. The item list
//! sits under the name given in `meta.key`, so (de)serialization is by hand.

use serde::de::{DeserializeOwned, Error as _};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The `meta` object of a page. URLs are absolute, with the server's own host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageMeta {
    pub page: u32,
    pub page_size: u32,
    pub first_page_url: String,
    pub previous_page_url: Option<String>,
    pub url: String,
    pub next_page_url: Option<String>,
    pub key: String,
}

/// One page of a list resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub meta: PageMeta,
}

impl<T> Page<T> {
    /// The same page with each item turned into something else (rows into JSON).
    pub fn map<U>(self, f: impl FnMut(&T) -> U) -> Page<U> {
        Page { items: self.items.iter().map(f).collect(), meta: self.meta }
    }
}

impl<T: Serialize> Serialize for Page<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry(&self.meta.key, &self.items)?;
        map.serialize_entry("meta", &self.meta)?;
        map.end()
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Page<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut value = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
        let meta: PageMeta =
            serde_json::from_value(value.remove("meta").ok_or_else(|| D::Error::missing_field("meta"))?)
                .map_err(D::Error::custom)?;
        let items = value.remove(&meta.key).ok_or_else(|| D::Error::custom("no items under meta.key"))?;
        let items = serde_json::from_value(items).map_err(D::Error::custom)?;
        Ok(Page { items, meta })
    }
}

/// Our `PageToken`: a keyset position in a list, opaque to Twilio's clients
/// (they only follow `next_page_url`), but documented so our SDK can anchor a
/// page. `PA<key>`: the items strictly after `key` in the list's order (the
/// next page); `PB<key>`: the items strictly before it (the previous page). For
/// messages the key is the message index, so `Order=desc&PageToken=PA120` is
/// "the page of messages older than index 120", with no OFFSET anywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageToken {
    After(String),
    Before(String),
}

impl PageToken {
    pub fn parse(s: &str) -> Option<Self> {
        let key = s.get(2..)?.to_owned();
        match s.get(..2)? {
            "PA" => Some(Self::After(key)),
            "PB" => Some(Self::Before(key)),
            _ => None,
        }
    }

    /// The key, parsed as an integer (message indexes, row ids).
    pub fn int_key(&self) -> Option<i64> {
        match self {
            Self::After(k) | Self::Before(k) => k.parse().ok(),
        }
    }
}

impl std::fmt::Display for PageToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::After(k) => write!(f, "PA{k}"),
            Self::Before(k) => write!(f, "PB{k}"),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn page_tokens_round_trip() {
        let t = PageToken::After("120".into());
        assert_eq!(t.to_string(), "PA120");
        assert_eq!(PageToken::parse("PA120"), Some(t));
        assert_eq!(PageToken::parse("PB7").and_then(|t| t.int_key()), Some(7));
        assert_eq!(PageToken::parse("XX1"), None);
        assert_eq!(PageToken::parse(""), None);
    }

    use super::*;

    #[test]
    fn items_sit_under_meta_key() {
        let page = Page {
            items: vec![1, 2],
            meta: PageMeta {
                page: 0,
                page_size: 2,
                first_page_url: "http://h/v1/X?PageSize=2&Page=0".into(),
                previous_page_url: None,
                url: "http://h/v1/X?PageSize=2&Page=0".into(),
                next_page_url: None,
                key: "things".into(),
            },
        };
        let json = serde_json::to_value(&page).unwrap();
        assert_eq!(json["things"], serde_json::json!([1, 2]));
        assert_eq!(json["meta"]["key"], "things");
        let back: Page<i32> = serde_json::from_value(json).unwrap();
        assert_eq!(back, page);
    }
}
