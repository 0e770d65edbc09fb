//! Verity's shared vocabulary.
//!
//! Every stage of the pipeline (ingest → index → retrieve → judge → compose → render)
//! speaks in these types, so this crate stays free of heavy dependencies.
//!
//! ```
//! use verity_types::{SourceId, char_slice};
//! let id = SourceId::from_content("Kellbridge council met on Tuesday.");
//! assert_eq!(id.as_str().len(), 16);
//! assert_eq!(char_slice("héllo wörld", 6, 11), Some("wörld"));
//! ```

mod error;
mod source;
mod text;

pub use error::{Category, ErrorCode, COMMANDS};

pub use source::*;
pub use text::*;
mod search;
pub use search::*;
