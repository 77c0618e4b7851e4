use std::process::ExitCode;

use qdrant_exporter::config::{environment, Cli, Command, Config, KubeCommand};
use qdrant_exporter::logging;
use qdrant_exporter::startup::Application;

/// mimalloc in every build (see the allocator module).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The allocator's options must be set before its first allocation, which
/// happens before `main`: as a constructor, run when the program is loaded.
#[cfg(target_os = "linux")]
#[used]
#[link_section = ".init_array"]
static SET_ALLOCATOR_OPTIONS: extern "C" fn() = {
    extern "C" fn set() {
        qdrant_exporter::allocator::give_memory_back();
    }
    set
};

/// Exit code for any invalid configuration or command line.
const EXIT_BAD_CONFIG: u8 = 2;

#[actix_web::main]
async fn main() -> anyhow::Result<ExitCode> {
    let cli = match Cli::try_parse_args(std::env::args_os()) {
        Ok(cli) => cli,
        Err(error) if !error.use_stderr() => {
            // --help and --version
            error.print()?;
            return Ok(ExitCode::SUCCESS);
        }
        Err(error) => {
            // One line; with the values a flag accepts where clap lists them.
            let rendered = error.render().to_string();
            let first = rendered.lines().next().unwrap_or("invalid command line");
            match rendered
                .lines()
                .find(|line| line.contains("[possible values:"))
            {
                Some(values) => eprintln!("{first} {}", values.trim()),
                None => eprintln!("{first}"),
            }
            return Ok(ExitCode::from(EXIT_BAD_CONFIG));
        }
    };
    match &cli.command {
        Some(Command::Kube(KubeCommand::Sidecar(args))) => {
            print!("{}", qdrant_exporter::kube::render(args));
            return Ok(ExitCode::SUCCESS);
        }
        Some(Command::ListMetrics) => {
            print!("{}", qdrant_exporter::catalog::listing());
            return Ok(ExitCode::SUCCESS);
        }
        None => {}
    }
    let config = match environment(std::env::vars_os()).and_then(|env| Config::load(cli, env)) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(ExitCode::from(EXIT_BAD_CONFIG));
        }
    };
    logging::init(&config.log);
    for warning in &config.server.web.warnings {
        tracing::warn!("web_config_file: {warning}");
    }
    let qdrant = config.server.target.qdrant.clone();
    let listen = config.server.listen_address;
    let application = match Application::build(config.server) {
        Ok(application) => application,
        Err(error) => {
            // One line, whatever RUST_BACKTRACE says: the address and the reason.
            eprintln!("error: {error}");
            return Ok(ExitCode::FAILURE);
        }
    };
    if qdrant.tls.insecure_skip_verify {
        tracing::warn!(
            hint = "trust Qdrant's CA with QDRANT_CA_FILE (and QDRANT_TLS_SERVER_NAME) instead",
            "QDRANT_TLS_INSECURE_SKIP_VERIFY is on: Qdrant's certificate is not verified, so \
             whoever answers on its address gets the API key"
        );
    }
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        listen = %listen,
        port = application.port(),
        health_port = application.health_port(),
        qdrant = %qdrant.url,
        api_key = qdrant.api_key.is_some(),
        "serving"
    );
    application.run_until_stopped().await?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}
