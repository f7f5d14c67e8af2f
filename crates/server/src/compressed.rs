//! Schema documents compressed once per digest and encoding, and kept: a version never
//! changes, so its compressed forms never do either. Serving one is a cache lookup
//! rather than a compression per request.

use std::io::Write as _;
use std::sync::Arc;

use axum::body::Bytes;
use http::HeaderMap;
use http::header::ACCEPT_ENCODING;
use moka::future::Cache;
use ovsr_core::Digest;
use tracing::warn;

/// Documents smaller than this are served as they are: their compressed form would
/// save less than the headers announcing it cost.
pub const MIN_COMPRESSED_BYTES: usize = 512;
/// brotli's quality and window: dense, at a few milliseconds per 100 KB, paid once
/// per document.
const BROTLI_QUALITY: u32 = 9;
const BROTLI_WINDOW: u32 = 22;
/// The cost of an entry beside its bytes, for the cache's bound.
const ENTRY_OVERHEAD_BYTES: u32 = 64;

/// A content coding both ends understand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// `br`.
    Brotli,
    /// `gzip`.
    Gzip,
}

impl Encoding {
    /// Its token in `Content-Encoding`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Brotli => "br",
            Self::Gzip => "gzip",
        }
    }
}

/// The encoding to answer with, from `Accept-Encoding`: the accepted one with the
/// higher weight, brotli on a tie; none when the client accepts neither.
pub fn negotiate(request: &HeaderMap) -> Option<Encoding> {
    let mut brotli: Option<f32> = None;
    let mut gzip: Option<f32> = None;
    let mut any: Option<f32> = None;
    let items = request
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','));
    for item in items {
        let mut parts = item.split(';');
        let token = parts.next().unwrap_or_default().trim();
        let weight = parts
            .filter_map(|parameter| {
                let (name, value) = parameter.split_once('=')?;
                name.trim()
                    .eq_ignore_ascii_case("q")
                    .then(|| value.trim().parse::<f32>().ok())?
            })
            .next()
            .unwrap_or(1.0);
        let slot = if token.eq_ignore_ascii_case("br") {
            &mut brotli
        } else if token.eq_ignore_ascii_case("gzip") || token.eq_ignore_ascii_case("x-gzip") {
            &mut gzip
        } else if token == "*" {
            &mut any
        } else {
            continue;
        };
        *slot = Some(weight);
    }
    // `*` stands for every coding not named.
    let brotli = brotli.or(any).unwrap_or(0.0);
    let gzip = gzip.or(any).unwrap_or(0.0);
    match (brotli > 0.0, gzip > 0.0) {
        (false, false) => None,
        _ if brotli >= gzip => Some(Encoding::Brotli),
        _ => Some(Encoding::Gzip),
    }
}

/// The compressed forms made so far, bounded by their bytes.
#[derive(Debug, Clone)]
pub struct CompressedDocuments {
    cache: Cache<(Digest, Encoding), Bytes>,
}

impl CompressedDocuments {
    /// A store of compressed forms holding at most `max_bytes` of them; 0 keeps none,
    /// and every request compresses its document again.
    pub fn new(max_bytes: u64) -> Self {
        let cache = Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|_, bytes: &Bytes| {
                u32::try_from(bytes.len())
                    .unwrap_or(u32::MAX)
                    .saturating_add(ENTRY_OVERHEAD_BYTES)
            })
            .build();
        Self { cache }
    }

    /// `text`, the document whose digest is `digest`, in `encoding`: from the cache,
    /// or compressed now off the request threads (one compression for any number of
    /// requests arriving together). None when the compression could not run.
    pub async fn get(&self, digest: Digest, encoding: Encoding, text: Arc<str>) -> Option<Bytes> {
        let compress = async move {
            let compressed =
                tokio::task::spawn_blocking(move || compress(encoding, text.as_bytes()))
                    .await
                    .map_err(std::io::Error::other)
                    .and_then(|compressed| compressed);
            match compressed {
                Ok(bytes) => Some(Bytes::from(bytes)),
                Err(err) => {
                    warn!(error = %err, encoding = encoding.as_str(), "compressing a document failed");
                    None
                }
            }
        };
        self.cache
            .optionally_get_with((digest, encoding), compress)
            .await
    }
}

/// `bytes` in `encoding`. Writing into memory does not fail; an error would be the
/// encoder's, and the document is then served as it is rather than cut short.
pub fn compress(encoding: Encoding, bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    match encoding {
        Encoding::Gzip => {
            let mut encoder = flate2::write::GzEncoder::new(
                Vec::with_capacity(bytes.len() / 4),
                flate2::Compression::best(),
            );
            encoder.write_all(bytes)?;
            encoder.finish()
        }
        Encoding::Brotli => {
            let mut out = Vec::with_capacity(bytes.len() / 4);
            let mut encoder =
                brotli::CompressorWriter::new(&mut out, 4096, BROTLI_QUALITY, BROTLI_WINDOW);
            encoder.write_all(bytes)?;
            // Dropping the writer ends the stream.
            drop(encoder);
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use http::HeaderValue;

    use super::*;

    fn accepting(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                ACCEPT_ENCODING,
                HeaderValue::from_str(value).expect("a value"),
            );
        }
        headers
    }

    #[test]
    fn brotli_wins_ties_and_weights_decide_otherwise() {
        assert_eq!(
            negotiate(&accepting(&["gzip, deflate, br"])),
            Some(Encoding::Brotli)
        );
        assert_eq!(
            negotiate(&accepting(&["br;q=0.5, gzip"])),
            Some(Encoding::Gzip)
        );
        assert_eq!(negotiate(&accepting(&["gzip"])), Some(Encoding::Gzip));
        assert_eq!(
            negotiate(&accepting(&["deflate", "BR"])),
            Some(Encoding::Brotli)
        );
        assert_eq!(negotiate(&accepting(&["x-gzip"])), Some(Encoding::Gzip));
    }

    #[test]
    fn refused_or_unnamed_codings_get_the_document_as_it_is() {
        assert_eq!(negotiate(&HeaderMap::new()), None);
        assert_eq!(negotiate(&accepting(&["identity"])), None);
        assert_eq!(negotiate(&accepting(&["br;q=0, gzip; q=0"])), None);
        assert_eq!(negotiate(&accepting(&["*;q=0"])), None);
    }

    #[test]
    fn a_wildcard_stands_for_the_codings_not_named() {
        assert_eq!(negotiate(&accepting(&["*"])), Some(Encoding::Brotli));
        assert_eq!(negotiate(&accepting(&["br;q=0, *"])), Some(Encoding::Gzip));
    }

    #[test]
    fn both_encodings_decode_to_the_document() {
        let text = r#"{"type":"object","properties":{"name":{"type":"string"}}}"#.repeat(40);
        let gzip = compress(Encoding::Gzip, text.as_bytes()).expect("gzip compresses");
        let mut decoded = String::new();
        flate2::read::GzDecoder::new(&gzip[..])
            .read_to_string(&mut decoded)
            .expect("gzip decodes");
        assert_eq!(decoded, text);
        let brotli = compress(Encoding::Brotli, text.as_bytes()).expect("brotli compresses");
        let mut decoded = Vec::new();
        brotli::BrotliDecompress(&mut &brotli[..], &mut decoded).expect("brotli decodes");
        assert_eq!(decoded, text.as_bytes());
        assert!(
            brotli.len() * 10 < text.len(),
            "{} of {}",
            brotli.len(),
            text.len()
        );
    }

    #[tokio::test]
    async fn a_document_is_compressed_once_and_then_served_from_the_cache() {
        let documents = CompressedDocuments::new(1 << 20);
        let text: Arc<str> = "{\"a\": 1}".repeat(200).into();
        let digest = Digest::of_canonical(text.as_bytes());
        let first = documents
            .get(digest, Encoding::Brotli, Arc::clone(&text))
            .await
            .expect("compressed");
        // Other text under the same digest proves the second answer is the kept one.
        let other: Arc<str> = "{}".into();
        let second = documents
            .get(digest, Encoding::Brotli, other)
            .await
            .expect("cached");
        assert_eq!(first, second);
        let gzip = documents
            .get(digest, Encoding::Gzip, text)
            .await
            .expect("compressed");
        assert_ne!(first, gzip, "each encoding is kept apart");
    }
}
