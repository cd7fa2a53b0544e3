//! Geodesic distance on a spherical Earth, and the bounding box of a search radius.

/// The mean Earth radius in metres (IUGG).
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// The great-circle distance in metres between two points given in degrees (haversine).
#[must_use]
pub fn haversine_m(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let (phi1, phi2) = (lat1.to_radians(), lat2.to_radians());
    let dphi = (lat2 - lat1).to_radians();
    let dlambda = (lon2 - lon1).to_radians();
    let a = (dphi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (dlambda / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
}

/// A box in degrees: `[min_lon, max_lon] x [min_lat, max_lat]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Box2 {
    /// West edge.
    pub min_lon: f64,
    /// East edge.
    pub max_lon: f64,
    /// South edge.
    pub min_lat: f64,
    /// North edge.
    pub max_lat: f64,
}

/// The boxes (one, or two across the antimeridian) that hold every point within `radius_m`
/// of (`lon`, `lat`). A cap that reaches a pole spans every longitude.
#[must_use]
pub fn bounding_boxes(lon: f64, lat: f64, radius_m: f64) -> Vec<Box2> {
    let angular = radius_m / EARTH_RADIUS_M;
    if angular >= std::f64::consts::PI {
        return vec![Box2 {
            min_lon: -180.0,
            max_lon: 180.0,
            min_lat: -90.0,
            max_lat: 90.0,
        }];
    }
    let dlat = angular.to_degrees();
    let min_lat = lat - dlat;
    let max_lat = lat + dlat;
    if min_lat <= -90.0 || max_lat >= 90.0 {
        return vec![Box2 {
            min_lon: -180.0,
            max_lon: 180.0,
            min_lat: min_lat.max(-90.0),
            max_lat: max_lat.min(90.0),
        }];
    }
    // The widest longitude offset of the cap (it is reached north or south of `lat`).
    let ratio = angular.sin() / lat.to_radians().cos();
    let dlon = if ratio >= 1.0 {
        180.0
    } else {
        ratio.asin().to_degrees()
    };
    let (west, east) = (lon - dlon, lon + dlon);
    if dlon >= 180.0 {
        vec![Box2 {
            min_lon: -180.0,
            max_lon: 180.0,
            min_lat,
            max_lat,
        }]
    } else if west < -180.0 {
        vec![
            Box2 {
                min_lon: -180.0,
                max_lon: east,
                min_lat,
                max_lat,
            },
            Box2 {
                min_lon: west + 360.0,
                max_lon: 180.0,
                min_lat,
                max_lat,
            },
        ]
    } else if east > 180.0 {
        vec![
            Box2 {
                min_lon: west,
                max_lon: 180.0,
                min_lat,
                max_lat,
            },
            Box2 {
                min_lon: -180.0,
                max_lon: east - 360.0,
                min_lat,
                max_lat,
            },
        ]
    } else {
        vec![Box2 {
            min_lon: west,
            max_lon: east,
            min_lat,
            max_lat,
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_distances() {
        // Paris to London, about 343.5 km.
        let d = haversine_m(2.3522, 48.8566, -0.1276, 51.5072);
        assert!((d - 343_500.0).abs() < 1_500.0, "{d}");
        assert_eq!(haversine_m(10.0, 10.0, 10.0, 10.0), 0.0);
        // Antipodes: half the circumference.
        let half = haversine_m(0.0, 0.0, 180.0, 0.0);
        assert!((half - std::f64::consts::PI * EARTH_RADIUS_M).abs() < 1.0);
    }

    fn inside(boxes: &[Box2], lon: f64, lat: f64) -> bool {
        boxes
            .iter()
            .any(|b| b.min_lon <= lon && lon <= b.max_lon && b.min_lat <= lat && lat <= b.max_lat)
    }

    #[test]
    fn every_point_within_the_radius_is_in_a_box() {
        let centres = [
            (0.0, 0.0),
            (179.9, 10.0),
            (-179.9, -60.0),
            (30.0, 89.0),
            (-120.0, 70.0),
        ];
        for (lon, lat) in centres {
            for radius in [1_000.0, 50_000.0, 500_000.0, 3_000_000.0] {
                let boxes = bounding_boxes(lon, lat, radius);
                for i in 0..360 {
                    let bearing = f64::from(i).to_radians();
                    // A point at 99.9 % of the radius along `bearing`.
                    let d = radius * 0.999 / EARTH_RADIUS_M;
                    let (phi, lambda) = (lat.to_radians(), lon.to_radians());
                    let phi2 = (phi.sin() * d.cos() + phi.cos() * d.sin() * bearing.cos()).asin();
                    let lambda2 = lambda
                        + (bearing.sin() * d.sin() * phi.cos())
                            .atan2(d.cos() - phi.sin() * phi2.sin());
                    let mut lon2 = lambda2.to_degrees();
                    if lon2 > 180.0 {
                        lon2 -= 360.0;
                    }
                    if lon2 < -180.0 {
                        lon2 += 360.0;
                    }
                    let lat2 = phi2.to_degrees();
                    assert!(
                        inside(&boxes, lon2, lat2),
                        "({lon2}, {lat2}) at {radius} m from ({lon}, {lat}) is outside {boxes:?}"
                    );
                }
            }
        }
    }
}
