//! What every page's frame needs: the organisation, the stylesheet, the demo banner.

use super::AppState;
use super::assets;

#[derive(Debug, Clone)]
pub struct Layout {
    pub title: String,
    pub organisation: String,
    pub stylesheet: String,
    /// "Mode démonstration — aucun paiement réel".
    pub demo: bool,
    pub description: String,
}

impl Layout {
    pub fn new(state: &AppState, title: impl Into<String>) -> Layout {
        Layout {
            title: title.into(),
            organisation: state.config.organisation_name.clone(),
            stylesheet: assets::versioned_url("app.css"),
            demo: state.config.demo_mode(),
            description: String::new(),
        }
    }

    pub fn with_description(mut self, description: impl Into<String>) -> Layout {
        self.description = description.into();
        self
    }
}
