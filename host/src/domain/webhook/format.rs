//! Where a webhook's payload comes from: one of the built-in payload
//! builders, or an uploaded `payload-builder` plugin.

use crate::domain::InvalidInput;
use crate::domain::plugin::BUILTIN_ID_PREFIX;

/// The built-in payload formats, each a plugin in `plugins/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BuiltinFormat {
    /// The event and the lead's id, nothing more.
    EventOnly,
    /// The event with the lead's fields and stage.
    Small,
    /// Also the lead's whole funnel history.
    Full,
    /// A body of the admin's own, with merge tags.
    Template,
}

impl BuiltinFormat {
    pub(crate) const ALL: [BuiltinFormat; 4] = [
        BuiltinFormat::EventOnly,
        BuiltinFormat::Small,
        BuiltinFormat::Full,
        BuiltinFormat::Template,
    ];

    /// The name an admin picks it by, which is also its plugin's name.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            BuiltinFormat::EventOnly => "event-only",
            BuiltinFormat::Small => "small",
            BuiltinFormat::Full => "full",
            BuiltinFormat::Template => "template",
        }
    }
}

/// Where a webhook's payload comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PayloadFormat {
    /// One of the built-in payload builders.
    Builtin(BuiltinFormat),
    /// An uploaded `payload-builder` plugin, by id.
    Plugin(String),
}

impl PayloadFormat {
    /// A built-in format's name, or an uploaded plugin's id (`plg_...`).
    pub(crate) fn parse(raw: &str) -> Result<Self, InvalidInput> {
        if let Some(builtin) = BuiltinFormat::ALL
            .into_iter()
            .find(|builtin| builtin.as_str() == raw)
        {
            return Ok(PayloadFormat::Builtin(builtin));
        }
        if raw.starts_with("plg_") {
            return Ok(PayloadFormat::Plugin(raw.to_owned()));
        }
        Err(InvalidInput(format!(
            "payload_format must be one of {} or the id of an uploaded payload-builder plugin (plg_...)",
            BuiltinFormat::ALL.map(BuiltinFormat::as_str).join(", ")
        )))
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            PayloadFormat::Builtin(builtin) => builtin.as_str(),
            PayloadFormat::Plugin(id) => id,
        }
    }

    /// The plugin id the registry resolves.
    pub(crate) fn plugin_id(&self) -> String {
        match self {
            PayloadFormat::Builtin(builtin) => format!("{BUILTIN_ID_PREFIX}{}", builtin.as_str()),
            PayloadFormat::Plugin(id) => id.clone(),
        }
    }

    /// Whether the payload builder gets the lead's funnel history: `full`
    /// shows it, and an uploaded plugin may use anything.
    pub(crate) fn needs_history(&self) -> bool {
        matches!(
            self,
            PayloadFormat::Builtin(BuiltinFormat::Full) | PayloadFormat::Plugin(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_formats() {
        assert_eq!(
            PayloadFormat::parse("small").unwrap(),
            PayloadFormat::Builtin(BuiltinFormat::Small)
        );
        assert_eq!(
            PayloadFormat::parse("plg_01ABC").unwrap().plugin_id(),
            "plg_01ABC".to_owned()
        );
        assert_eq!(
            PayloadFormat::Builtin(BuiltinFormat::Full).plugin_id(),
            "builtin:full"
        );
        assert_eq!(
            PayloadFormat::parse("xml").unwrap_err().0,
            "payload_format must be one of event-only, small, full, template \
             or the id of an uploaded payload-builder plugin (plg_...)"
        );
        assert!(PayloadFormat::Builtin(BuiltinFormat::Full).needs_history());
        assert!(!PayloadFormat::Builtin(BuiltinFormat::Small).needs_history());
    }

    #[test]
    fn every_builtin_format_parses_back_from_its_name() {
        for builtin in BuiltinFormat::ALL {
            let format = PayloadFormat::parse(builtin.as_str()).unwrap();
            assert_eq!(format, PayloadFormat::Builtin(builtin));
            assert_eq!(format.as_str(), builtin.as_str());
        }
    }
}
