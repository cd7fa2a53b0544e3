//! The wire format of a position report, and its validation.
//!
//! One UDP datagram is one msgpack map with the case-exact keys of the original Go client:
//! `ID` (string), `Lon` and `Lat` (float64) and `Emergency` (bool). Anything else is rejected
//! with a reason, never a panic.

use serde::Deserialize;

/// A report as it arrives, decoded with rmp-serde.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Packet {
    /// The vehicle's identifier.
    #[serde(rename = "ID")]
    pub id: String,
    /// Longitude in degrees.
    #[serde(rename = "Lon")]
    pub lon: f64,
    /// Latitude in degrees.
    #[serde(rename = "Lat")]
    pub lat: f64,
    /// The vehicle asks for help.
    #[serde(rename = "Emergency")]
    pub emergency: bool,
}

/// A validated position, with the time it was received.
#[derive(Clone, Debug, PartialEq)]
pub struct Position {
    /// The vehicle's identifier (not empty).
    pub id: String,
    /// Longitude in degrees, in [-180, 180].
    pub lon: f64,
    /// Latitude in degrees, in [-90, 90].
    pub lat: f64,
    /// When the datagram was received, in Unix milliseconds.
    pub received_ms: i64,
    /// The vehicle asks for help.
    pub emergency: bool,
}

/// Why a datagram was rejected.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Reject {
    /// Not a msgpack map with the four keys and their types.
    #[error("not a position report: {0}")]
    Malformed(String),
    /// `ID` is empty.
    #[error("empty vehicle ID")]
    EmptyId,
    /// `Lon` or `Lat` is NaN or infinite.
    #[error("coordinates are not finite numbers")]
    NotFinite,
    /// `Lon` outside [-180, 180] or `Lat` outside [-90, 90].
    #[error("coordinates out of range (lon {lon}, lat {lat})")]
    OutOfRange {
        /// The longitude received.
        lon: f64,
        /// The latitude received.
        lat: f64,
    },
}

impl Reject {
    /// A short label for metrics.
    #[must_use]
    pub fn label(&self) -> &'static str {
        match self {
            Reject::Malformed(_) => "malformed",
            Reject::EmptyId => "empty_id",
            Reject::NotFinite => "not_finite",
            Reject::OutOfRange { .. } => "out_of_range",
        }
    }
}

/// Decodes and validates one datagram received at `received_ms`.
///
/// # Errors
/// The reason the datagram is not a valid position report.
pub fn decode(payload: &[u8], received_ms: i64) -> Result<Position, Reject> {
    let packet: Packet =
        rmp_serde::from_slice(payload).map_err(|e| Reject::Malformed(e.to_string()))?;
    if packet.id.is_empty() {
        return Err(Reject::EmptyId);
    }
    if !packet.lon.is_finite() || !packet.lat.is_finite() {
        return Err(Reject::NotFinite);
    }
    if !(-180.0..=180.0).contains(&packet.lon) || !(-90.0..=90.0).contains(&packet.lat) {
        return Err(Reject::OutOfRange {
            lon: packet.lon,
            lat: packet.lat,
        });
    }
    Ok(Position {
        id: packet.id,
        lon: packet.lon,
        lat: packet.lat,
        received_ms,
        emergency: packet.emergency,
    })
}

/// Encodes a report as the original client does: a map with its Go field names.
///
/// # Errors
/// Only if serialization fails, which it does not for these types.
pub fn encode(
    id: &str,
    lon: f64,
    lat: f64,
    emergency: bool,
) -> Result<Vec<u8>, rmp_serde::encode::Error> {
    #[derive(serde::Serialize)]
    struct Out<'a> {
        #[serde(rename = "ID")]
        id: &'a str,
        #[serde(rename = "Lon")]
        lon: f64,
        #[serde(rename = "Lat")]
        lat: f64,
        #[serde(rename = "Emergency")]
        emergency: bool,
    }
    rmp_serde::to_vec_named(&Out {
        id,
        lon,
        lat,
        emergency,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    /// The sample packet of the original system.
    const SAMPLE: &str = "hKJJRNkkNGUwOTEzOTYtNjJhZS00ZjNiLTg3MTUtN2I0ZmM5YzY0ZDE0o0xvbsvAU1R+Qxkx1qNMYXTLwEI9Ghs6ciCpRW1lcmdlbmN5wg==";

    fn sample() -> Vec<u8> {
        base64::engine::general_purpose::STANDARD
            .decode(SAMPLE)
            .expect("base64")
    }

    #[test]
    fn the_original_sample_packet_is_accepted() {
        let p = decode(&sample(), 7).expect("valid");
        assert_eq!(p.id, "4e091396-62ae-4f3b-8715-7b4fc9c64d14");
        assert!((p.lon - -77.3202).abs() < 1e-3, "{}", p.lon);
        assert!((p.lat - -36.4773).abs() < 1e-3, "{}", p.lat);
        assert!(!p.emergency);
        assert_eq!(p.received_ms, 7);
    }

    #[test]
    fn our_encoding_is_the_original_clients() {
        let p = decode(&sample(), 0).expect("valid");
        assert_eq!(
            encode(&p.id, p.lon, p.lat, p.emergency).expect("encode"),
            sample()
        );
    }

    #[test]
    fn truncated_and_garbage_packets_are_malformed() {
        let s = sample();
        for cut in [0, 1, 10, s.len() - 1] {
            assert!(
                matches!(decode(&s[..cut], 0), Err(Reject::Malformed(_))),
                "cut {cut}"
            );
        }
        assert!(matches!(
            decode(b"\xff\xfe garbage", 0),
            Err(Reject::Malformed(_))
        ));
    }

    #[test]
    fn wrong_types_and_lowercase_keys_are_malformed() {
        #[derive(serde::Serialize)]
        struct Lower<'a> {
            id: &'a str,
            lon: f64,
            lat: f64,
            emergency: bool,
        }
        let lower = rmp_serde::to_vec_named(&Lower {
            id: "a",
            lon: 1.0,
            lat: 1.0,
            emergency: false,
        })
        .expect("encode");
        assert!(matches!(decode(&lower, 0), Err(Reject::Malformed(_))));
        #[derive(serde::Serialize)]
        struct Wrong<'a> {
            #[serde(rename = "ID")]
            id: &'a str,
            #[serde(rename = "Lon")]
            lon: &'a str,
            #[serde(rename = "Lat")]
            lat: f64,
            #[serde(rename = "Emergency")]
            emergency: bool,
        }
        let wrong = rmp_serde::to_vec_named(&Wrong {
            id: "a",
            lon: "east",
            lat: 1.0,
            emergency: false,
        })
        .expect("encode");
        assert!(matches!(decode(&wrong, 0), Err(Reject::Malformed(_))));
    }

    #[test]
    fn empty_ids_non_finite_and_out_of_range_coordinates_are_rejected() {
        let bad =
            |id: &str, lon: f64, lat: f64| decode(&encode(id, lon, lat, false).expect("encode"), 0);
        assert_eq!(bad("", 1.0, 1.0), Err(Reject::EmptyId));
        assert_eq!(bad("a", f64::NAN, 1.0), Err(Reject::NotFinite));
        assert_eq!(bad("a", 1.0, f64::INFINITY), Err(Reject::NotFinite));
        assert!(matches!(
            bad("a", 180.5, 0.0),
            Err(Reject::OutOfRange { .. })
        ));
        assert!(matches!(
            bad("a", 0.0, -90.01),
            Err(Reject::OutOfRange { .. })
        ));
        assert!(bad("a", 180.0, -90.0).is_ok());
    }
}
