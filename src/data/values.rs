//! [`Values`]: the numbers of a numeric column, owned by the frame or
//! shared with the program that embeds the library.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// The numbers of a [`Column::Numeric`](super::Column::Numeric): a `[f64]`
/// the frame owns (a `Vec<f64>`, what the readers make) or one shared with
/// an embedder that already holds the numbers in memory (a Python array, an
/// Arrow buffer) and hands them over without a copy.
///
/// It dereferences to `[f64]`, so code that reads a column uses it as a
/// slice. Cloning a shared `Values` clones the [`Arc`], not the numbers.
/// Two `Values` are equal when their numbers are (`NaN` is unequal to
/// itself, as in a slice), however they are held.
///
/// ```
/// use gravity_model::data::Values;
/// use std::sync::Arc;
/// let owned = Values::from(vec![1.0, 2.0]);
/// let shared = Values::shared(Arc::new(vec![1.0, 2.0]));
/// assert_eq!(owned, shared);
/// assert_eq!(shared.iter().sum::<f64>(), 3.0);
/// assert!(shared.is_shared() && !owned.is_shared());
/// ```
#[derive(Clone)]
pub struct Values(Repr);

#[derive(Clone)]
enum Repr {
    Owned(Vec<f64>),
    Shared(Arc<dyn AsRef<[f64]> + Send + Sync>),
}

impl Values {
    /// Numbers held by someone else: `owner.as_ref()` is the column, every
    /// time it is asked (the owner must not change its numbers while a
    /// frame holding them is in use; it is kept alive as long as any clone
    /// of the column is).
    pub fn shared(owner: Arc<dyn AsRef<[f64]> + Send + Sync>) -> Values {
        Values(Repr::Shared(owner))
    }

    /// True if the numbers are held by an embedder ([`Values::shared`])
    /// rather than owned by the frame.
    pub fn is_shared(&self) -> bool {
        matches!(self.0, Repr::Shared(_))
    }

    /// The numbers as a slice (what `Deref` gives).
    pub fn as_slice(&self) -> &[f64] {
        match &self.0 {
            Repr::Owned(v) => v,
            Repr::Shared(owner) => (**owner).as_ref(),
        }
    }

    /// The numbers as an owned vector: no copy if the frame owned them,
    /// one copy if they were shared.
    pub fn into_vec(self) -> Vec<f64> {
        match self.0 {
            Repr::Owned(v) => v,
            Repr::Shared(owner) => (*owner).as_ref().to_vec(),
        }
    }
}

impl Deref for Values {
    type Target = [f64];

    fn deref(&self) -> &[f64] {
        self.as_slice()
    }
}

impl AsRef<[f64]> for Values {
    fn as_ref(&self) -> &[f64] {
        self.as_slice()
    }
}

impl From<Vec<f64>> for Values {
    fn from(v: Vec<f64>) -> Values {
        Values(Repr::Owned(v))
    }
}

impl From<&[f64]> for Values {
    fn from(v: &[f64]) -> Values {
        Values(Repr::Owned(v.to_vec()))
    }
}

impl FromIterator<f64> for Values {
    fn from_iter<I: IntoIterator<Item = f64>>(iter: I) -> Values {
        Values(Repr::Owned(iter.into_iter().collect()))
    }
}

impl<'a> IntoIterator for &'a Values {
    type Item = &'a f64;
    type IntoIter = std::slice::Iter<'a, f64>;

    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

impl PartialEq for Values {
    fn eq(&self, other: &Values) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl PartialEq<[f64]> for Values {
    fn eq(&self, other: &[f64]) -> bool {
        self.as_slice() == other
    }
}

impl PartialEq<Vec<f64>> for Values {
    fn eq(&self, other: &Vec<f64>) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl fmt::Debug for Values {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_slice(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An embedder's buffer: the numbers live elsewhere, the column
    /// borrows them.
    struct Borrowed(Box<[f64]>);

    impl AsRef<[f64]> for Borrowed {
        fn as_ref(&self) -> &[f64] {
            &self.0
        }
    }

    #[test]
    fn from_vec_owns_the_numbers() {
        let v = vec![1.0, f64::NAN, 3.5];
        let ptr = v.as_ptr();
        let values = Values::from(v);
        assert!(!values.is_shared());
        assert_eq!(values.len(), 3);
        assert_eq!(values.as_ptr(), ptr, "no copy from a Vec");
        let back = values.into_vec();
        assert_eq!(back.as_ptr(), ptr, "no copy back to a Vec");
    }

    #[test]
    fn shared_derefs_to_the_owners_buffer() {
        let owner = Arc::new(Borrowed(vec![2.0, 4.0, 8.0].into_boxed_slice()));
        let ptr = owner.0.as_ptr();
        let values = Values::shared(owner.clone());
        assert!(values.is_shared());
        assert_eq!(values.as_ptr(), ptr, "the column is the owner's buffer");
        assert_eq!(&values[1..], &[4.0, 8.0]);
        assert_eq!(values.iter().sum::<f64>(), 14.0);
        let clone = values.clone();
        assert_eq!(clone.as_ptr(), ptr, "a clone shares the buffer");
        assert_eq!(Arc::strong_count(&owner), 3);
        drop((values, clone));
        assert_eq!(Arc::strong_count(&owner), 1, "clones release the owner");
        let copied = Values::shared(owner).into_vec();
        assert_eq!(copied, vec![2.0, 4.0, 8.0]);
    }

    #[test]
    fn equality_is_by_the_numbers() {
        let owned = Values::from(vec![1.0, 2.0]);
        let shared = Values::shared(Arc::new(vec![1.0, 2.0]));
        assert_eq!(owned, shared);
        assert_eq!(shared, vec![1.0, 2.0]);
        assert_eq!(shared, *[1.0, 2.0].as_slice());
        assert_ne!(owned, Values::from(vec![1.0, 2.5]));
        assert_ne!(Values::from(vec![f64::NAN]), Values::from(vec![f64::NAN]));
        assert_eq!(format!("{owned:?}"), "[1.0, 2.0]");
        assert_eq!(format!("{shared:?}"), "[1.0, 2.0]");
    }

    #[test]
    fn collects_and_iterates() {
        let values: Values = (1..=3).map(f64::from).collect();
        assert_eq!(values, vec![1.0, 2.0, 3.0]);
        let doubled: Vec<f64> = (&values).into_iter().map(|x| 2.0 * x).collect();
        assert_eq!(doubled, vec![2.0, 4.0, 6.0]);
        assert_eq!(Values::from(&[5.0][..]), vec![5.0]);
    }

    #[test]
    fn is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Values>();
        check::<super::super::Column>();
    }
}
