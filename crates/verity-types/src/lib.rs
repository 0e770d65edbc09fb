//! Verity's shared vocabulary.
//!
//! Every stage of the pipeline (ingest → index → retrieve → judge → compose → render)
//! speaks in these types, so this crate stays free of heavy dependencies. The brief
//! ([`Brief`], with its [`Mode`] and [`Plan`]) is here too: `verity-compose` builds it and
//! `verity-render` reads it without depending on the builder.
//!
//! ```
//! use verity_types::{SourceId, char_slice};
//! let id = SourceId::from_content("Kellbridge council met on Tuesday.");
//! assert_eq!(id.as_str().len(), 16);
//! assert_eq!(char_slice("héllo wörld", 6, 11), Some("wörld"));
//! ```

mod brief;
mod error;
mod mode;
mod plan;
mod search;
mod source;
mod text;

pub use brief::*;
pub use error::{Category, ErrorCode, COMMANDS};
pub use mode::*;
pub use plan::*;
pub use search::*;
pub use source::*;
pub use text::*;
