//! Reading an answer of Qdrant's within an allowance of memory. The 32 MiB
//! a response may weigh can spell millions of tiny list entries or map
//! entries, each read into a structure many times its text (1.9 million
//! collections of `{"id":"c0000001"}` took the exporter to 853 MB). Every
//! list element and map entry read is charged its size (what it takes
//! inline; what it owns is charged as its own elements are read), and the
//! answer is refused once the allowance is spent. What is skipped unread
//! costs nothing.

use std::cell::Cell;
use std::fmt;
use std::mem::size_of;

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};

/// Reads `json` as a `T`, refusing it once its lists and maps would take
/// more than `allowance` bytes.
pub fn from_str<T: DeserializeOwned>(json: &str, allowance: usize) -> serde_json::Result<T> {
    let room = Room {
        allowance,
        left: Cell::new(allowance),
    };
    let mut inner = serde_json::Deserializer::from_str(json);
    let value = T::deserialize(Bounded {
        inner: &mut inner,
        room: &room,
    })?;
    inner.end()?;
    Ok(value)
}

struct Room {
    allowance: usize,
    left: Cell<usize>,
}

impl Room {
    fn take<E: de::Error>(&self, bytes: usize) -> Result<(), E> {
        match self.left.get().checked_sub(bytes) {
            Some(left) => {
                self.left.set(left);
                Ok(())
            }
            None => Err(E::custom(format_args!(
                "its lists and maps would take more than {} bytes once read",
                self.allowance
            ))),
        }
    }
}

/// The deserializer, handing each visitor a [`Checked`] one.
struct Bounded<'r, D> {
    inner: D,
    room: &'r Room,
}

/// A visitor whose lists and maps are read through an [`Access`].
struct Checked<'r, V> {
    inner: V,
    room: &'r Room,
}

/// A list's, map's or enum's access, charging what each element takes.
struct Access<'r, A> {
    inner: A,
    room: &'r Room,
}

/// One element: charged, then read through a [`Bounded`] deserializer.
struct Seed<'r, S> {
    inner: S,
    room: &'r Room,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Seed<'_, S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, inner: D) -> Result<S::Value, D::Error> {
        self.room.take(size_of::<S::Value>())?;
        self.inner.deserialize(Bounded {
            inner,
            room: self.room,
        })
    }
}

macro_rules! forward_deserialize {
    ($($method:ident($($arg:ident: $type:ty),*);)*) => {$(
        fn $method<V: Visitor<'de>>(self, $($arg: $type,)* visitor: V) -> Result<V::Value, D::Error> {
            self.inner.$method($($arg,)* Checked { inner: visitor, room: self.room })
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Bounded<'_, D> {
    type Error = D::Error;

    forward_deserialize! {
        deserialize_any();
        deserialize_bool();
        deserialize_i8();
        deserialize_i16();
        deserialize_i32();
        deserialize_i64();
        deserialize_i128();
        deserialize_u8();
        deserialize_u16();
        deserialize_u32();
        deserialize_u64();
        deserialize_u128();
        deserialize_f32();
        deserialize_f64();
        deserialize_char();
        deserialize_str();
        deserialize_string();
        deserialize_bytes();
        deserialize_byte_buf();
        deserialize_option();
        deserialize_unit();
        deserialize_unit_struct(name: &'static str);
        deserialize_newtype_struct(name: &'static str);
        deserialize_seq();
        deserialize_tuple(len: usize);
        deserialize_tuple_struct(name: &'static str, len: usize);
        deserialize_map();
        deserialize_struct(name: &'static str, fields: &'static [&'static str]);
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
        deserialize_identifier();
        deserialize_ignored_any();
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

macro_rules! forward_visit {
    ($($method:ident($type:ty);)*) => {$(
        fn $method<E: de::Error>(self, value: $type) -> Result<V::Value, E> {
            self.inner.$method(value)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Checked<'_, V> {
    type Value = V::Value;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        self.inner.expecting(formatter)
    }

    forward_visit! {
        visit_bool(bool);
        visit_i8(i8);
        visit_i16(i16);
        visit_i32(i32);
        visit_i64(i64);
        visit_i128(i128);
        visit_u8(u8);
        visit_u16(u16);
        visit_u32(u32);
        visit_u64(u64);
        visit_u128(u128);
        visit_f32(f32);
        visit_f64(f64);
        visit_char(char);
        visit_str(&str);
        visit_borrowed_str(&'de str);
        visit_string(String);
        visit_bytes(&[u8]);
        visit_borrowed_bytes(&'de [u8]);
        visit_byte_buf(Vec<u8>);
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, inner: D) -> Result<V::Value, D::Error> {
        self.inner.visit_some(Bounded {
            inner,
            room: self.room,
        })
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, inner: D) -> Result<V::Value, D::Error> {
        self.inner.visit_newtype_struct(Bounded {
            inner,
            room: self.room,
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, inner: A) -> Result<V::Value, A::Error> {
        self.inner.visit_seq(Access {
            inner,
            room: self.room,
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, inner: A) -> Result<V::Value, A::Error> {
        self.inner.visit_map(Access {
            inner,
            room: self.room,
        })
    }

    fn visit_enum<A: EnumAccess<'de>>(self, inner: A) -> Result<V::Value, A::Error> {
        self.inner.visit_enum(Access {
            inner,
            room: self.room,
        })
    }
}

impl<'r, A> Access<'r, A> {
    fn seed<S>(&self, inner: S) -> Seed<'r, S> {
        Seed {
            inner,
            room: self.room,
        }
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Access<'_, A> {
    type Error = A::Error;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, A::Error> {
        self.inner.next_element_seed(self.seed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Access<'_, A> {
    type Error = A::Error;

    fn next_key_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, A::Error> {
        self.inner.next_key_seed(self.seed(seed))
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.inner.next_value_seed(self.seed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

impl<'r, 'de, A: EnumAccess<'de>> EnumAccess<'de> for Access<'r, A> {
    type Error = A::Error;
    type Variant = Access<'r, A::Variant>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self::Variant), A::Error> {
        let seed = self.seed(seed);
        let (value, variant) = self.inner.variant_seed(seed)?;
        Ok((
            value,
            Access {
                inner: variant,
                room: self.room,
            },
        ))
    }
}

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for Access<'_, A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.inner.unit_variant()
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, A::Error> {
        let seed = self.seed(seed);
        self.inner.newtype_variant_seed(seed)
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.inner.tuple_variant(
            len,
            Checked {
                inner: visitor,
                room: self.room,
            },
        )
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.inner.struct_variant(
            fields,
            Checked {
                inner: visitor,
                room: self.room,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_within_its_allowance_reads_as_serde_json_reads_it() {
        let json = r#"{"a": [1, 2, {"b": null}], "c": {"d": "e"}, "f": true}"#;
        let bounded: serde_json::Value = from_str(json, 1 << 20).unwrap();
        assert_eq!(
            bounded,
            serde_json::from_str::<serde_json::Value>(json).unwrap()
        );
    }

    #[test]
    fn many_small_entries_are_refused_once_the_allowance_is_spent() {
        let entries: Vec<String> = (0..10_000).map(|n| format!(r#"{{"id":"c{n}"}}"#)).collect();
        let json = format!("[{}]", entries.join(","));
        let error = from_str::<Vec<serde_json::Value>>(&json, 64 * 1024).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("would take more than 65536 bytes once read"),
            "{error}"
        );
        assert_eq!(
            from_str::<Vec<serde_json::Value>>(&json, 16 << 20)
                .unwrap()
                .len(),
            10_000
        );
    }

    #[test]
    fn what_is_skipped_costs_nothing() {
        #[derive(serde::Deserialize)]
        struct Wanted {
            id: u32,
        }
        let skipped: Vec<u32> = (0..100_000).collect();
        let json = format!(r#"{{"id": 1, "skipped": {skipped:?}}}"#);
        assert_eq!(from_str::<Wanted>(&json, 1024).unwrap().id, 1);
    }
}
