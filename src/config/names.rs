//! How each setting is given: its YAML key is its name, and its environment
//! variable and flag are derived from it.

/// Prefix of the exporter's own environment variables.
pub const ENV_PREFIX: &str = "QDRANT_EXPORTER_";
/// Environment variable naming the YAML config file (flag `--config`).
pub const CONFIG_FILE_ENV: &str = "QDRANT_EXPORTER_CONFIG";
/// Settings with no flag: a command line is visible to every process on the
/// node, and these are secrets.
pub const WITHOUT_FLAG: [&str; 1] = ["qdrant_api_key"];

/// Settings about reaching Qdrant keep the names Qdrant users already know
/// (`QDRANT_URL`, `QDRANT_API_KEY`, ...); all others carry the exporter's prefix.
pub fn env_name(setting: &str) -> String {
    if setting.starts_with("qdrant_") {
        setting.to_uppercase()
    } else {
        format!("{ENV_PREFIX}{}", setting.to_uppercase())
    }
}

pub fn flag_name(setting: &str) -> String {
    format!("--{}", setting.replace('_', "-"))
}

/// `env X, flag --y`: every way to give the setting.
pub fn ways_to_set(setting: &str) -> String {
    match WITHOUT_FLAG.contains(&setting) {
        true => format!("env {}", env_name(setting)),
        false => format!("env {}, flag {}", env_name(setting), flag_name(setting)),
    }
}
