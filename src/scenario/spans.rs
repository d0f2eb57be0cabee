//! Where each key of a scenario file is: a tree of byte spans parsed from
//! the text, so errors found after deserialization (validation, overrides)
//! can still point at a line and column.

use super::error::{KeyPath, Seg};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::ops::Range;
use toml::Spanned;

/// Spans of every value in a TOML document, addressed by key path.
#[derive(Debug, Default)]
pub(crate) struct SpanTree {
    root: Vec<(String, Spanned<Node>)>,
}

#[derive(Debug)]
enum Node {
    Table(Vec<(String, Spanned<Node>)>),
    Array(Vec<Spanned<Node>>),
    Leaf,
}

impl SpanTree {
    /// Best effort: a document the tree cannot represent (a datetime, say)
    /// gives an empty tree, and errors simply carry no line numbers.
    pub(super) fn parse(text: &str) -> Self {
        match Root::deserialize(toml::Deserializer::new(text)) {
            Ok(Root(root)) => SpanTree { root },
            Err(_) => SpanTree::default(),
        }
    }

    /// The span of the value at `path`, or of its nearest ancestor present
    /// in the file (a missing key is reported at its table).
    pub(super) fn find(&self, path: &KeyPath) -> Option<Range<usize>> {
        let mut best = None;
        let mut table = &self.root;
        let mut node: Option<&Node> = None;
        for seg in &path.0 {
            let next = match (seg, node) {
                (Seg::Key(k), None) => table.iter().find(|(key, _)| key == k).map(|(_, v)| v),
                (Seg::Key(k), Some(Node::Table(t))) => {
                    t.iter().find(|(key, _)| key == k).map(|(_, v)| v)
                }
                (Seg::Index(i), Some(Node::Array(a))) => a.get(*i),
                _ => None,
            };
            let Some(next) = next else { break };
            let span = next.span();
            if span.end > span.start {
                best = Some(span);
            }
            node = Some(next.get_ref());
            if let Node::Table(t) = next.get_ref() {
                table = t;
            }
        }
        best
    }
}

struct Root(Vec<(String, Spanned<Node>)>);

impl<'de> Deserialize<'de> for Root {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Node::deserialize(d)? {
            Node::Table(t) => Ok(Root(t)),
            _ => Err(de::Error::custom("a TOML document is a table")),
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Node;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any TOML value")
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Node, E> {
                Ok(Node::Leaf)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Node, E> {
                Ok(Node::Leaf)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Node, E> {
                Ok(Node::Leaf)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Node, E> {
                Ok(Node::Leaf)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Node, E> {
                Ok(Node::Leaf)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = seq.next_element()? {
                    v.push(x);
                }
                Ok(Node::Array(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                let mut v = Vec::new();
                while let Some(k) = map.next_key::<String>()? {
                    v.push((k, map.next_value()?));
                }
                Ok(Node::Table(v))
            }
        }
        d.deserialize_any(V)
    }
}
