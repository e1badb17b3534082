//! `kinlink audit-verify`: checks every audit chain, or one organisation's,
//! and prints one line per chain on standard output.

use std::process::ExitCode;

use kinlink_core::audit_chain::ChainKey;
use kinlink_core::audit_chain::verify::ChainBreak;
use kinlink_store::Store;
use tracing::{error, info};

/// Rows outside every chain that the command lists before it stops
/// listing them.
const UNCHAINED_LISTED: u64 = 20;

/// The exit code when a chain is broken. An error that stops the check
/// itself, such as an unreachable database, exits with 1.
const BROKEN_EXIT_CODE: u8 = 2;

/// Verifies the chains and prints what it finds. Returns success when
/// every chain checked is intact, and [`BROKEN_EXIT_CODE`] otherwise.
pub async fn run(store: &Store, organisation: Option<uuid::Uuid>) -> anyhow::Result<ExitCode> {
    let chains = match organisation {
        Some(id) => vec![ChainKey(id)],
        None => store.audit_chains().await?,
    };
    let broken = verify_chains(store, &chains).await?;
    let unchained = list_unchained(store, organisation.map(ChainKey)).await?;
    info!(
        chains = chains.len(),
        broken, unchained, "audit chains verified"
    );

    let checked = match chains.len() {
        1 => "1 audit chain checked".to_owned(),
        count => format!("{count} audit chains checked"),
    };
    if broken == 0 && unchained == 0 {
        println!("{checked}: all intact");
        return Ok(ExitCode::SUCCESS);
    }
    let outside = if unchained > UNCHAINED_LISTED {
        format!("more than {UNCHAINED_LISTED}")
    } else {
        unchained.to_string()
    };
    println!("{checked}: {broken} broken; audit rows outside the chain: {outside}");
    Ok(ExitCode::from(BROKEN_EXIT_CODE))
}

/// Verifies each chain and prints a line for it. Returns how many are
/// broken.
async fn verify_chains(store: &Store, chains: &[ChainKey]) -> anyhow::Result<usize> {
    let mut broken = 0;
    for &chain in chains {
        match store.verify_audit_chain(chain).await? {
            Ok(summary) => println!(
                "audit chain {chain} ({}): intact, {} rows, head seq {}, head hash {}",
                label(chain),
                summary.events,
                summary.last_seq,
                summary.last_hash
            ),
            Err(link) => {
                broken += 1;
                error!(chain = %chain, problem = %link, "audit chain broken");
                println!("audit chain {chain} ({}): BROKEN: {link}", label(chain));
            }
        }
    }
    Ok(broken)
}

/// Prints a line for each row outside every chain, up to
/// [`UNCHAINED_LISTED`] of them, optionally of one chain's organisation.
/// Returns how many it found, at most one more than it lists.
async fn list_unchained(store: &Store, chain: Option<ChainKey>) -> anyhow::Result<u64> {
    let unchained = store
        .unchained_audit_events(chain, UNCHAINED_LISTED + 1)
        .await?;
    for &(chain, id) in unchained.iter().take(UNCHAINED_LISTED as usize) {
        error!(chain = %chain, row = %id, "audit row outside the chain");
        let link = ChainBreak::Unchained { id };
        println!("audit chain {chain} ({}): BROKEN: {link}", label(chain));
    }
    let found = unchained.len() as u64;
    if found > UNCHAINED_LISTED {
        println!(
            "more than {UNCHAINED_LISTED} audit rows lie outside the chain; the rest are not listed"
        );
    }
    Ok(found)
}

/// Names the kind of chain for a reader of the output.
fn label(chain: ChainKey) -> &'static str {
    if chain.is_platform() {
        "platform"
    } else {
        "organisation"
    }
}
