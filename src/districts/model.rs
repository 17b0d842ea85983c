//! Kreise: their types.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::text_enum;

text_enum! {
    /// Landkreis or kreisfreie Stadt.
    pub enum DistrictKind {
        Landkreis = "landkreis",
        KreisfreieStadt = "kreisfreie_stadt",
    }
}

/// Kreis: a Landkreis or kreisfreie Stadt of Hessen, keyed by its five-digit AGS (Amtlicher Gemeindeschlüssel).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"ags": "06636", "name": "Werra-Meißner-Kreis", "kind": "landkreis",
    "regierungsbezirk": "Kassel", "versorgungsgebiet": "Kassel"}))]
pub struct District {
    /// Official five-digit key.
    #[schema(max_length = 5)]
    pub ags: String,
    #[schema(max_length = 100)]
    pub name: String,
    pub kind: DistrictKind,
    /// One of the three Regierungsbezirke (Darmstadt, Gießen, Kassel).
    #[schema(max_length = 100)]
    pub regierungsbezirk: String,
    /// One of the six hospital-care regions (Versorgungsgebiete).
    #[schema(max_length = 100)]
    pub versorgungsgebiet: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListDistricts {
    /// Only districts of this Versorgungsgebiet (e.g. `Kassel`).
    pub versorgungsgebiet: Option<String>,
    /// Only districts of this Regierungsbezirk (`Darmstadt`, `Gießen`, `Kassel`).
    pub regierungsbezirk: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Opaque cursor from `nextCursor` of the previous page.
    pub cursor: Option<String>,
    /// Also return the number of all matching items.
    pub include_total: Option<bool>,
}
