//! Validate and hash one git tree: `hash_tree <repository> <tree-ish>`.
//!
//! Prints the content hash and what the tree holds. Used by `benches/verify.sh`.

use std::process::ExitCode;

fn run() -> Result<String, Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(path), Some(treeish)) = (args.next(), args.next()) else {
        return Err("usage: hash_tree <repository> <tree-ish>".into());
    };
    let repo = gix::open(path)?;
    let tree = repo
        .rev_parse_single(treeish.as_str())?
        .object()?
        .peel_to_tree()?;
    let outcome = verify::tree::hash_tree(&repo, tree.id, &verify::tree::Options::default())?;
    Ok(format!(
        "{} entries={} bytes={} depth={}",
        outcome.hash, outcome.counts.entries, outcome.counts.bytes, outcome.counts.depth
    ))
}

fn main() -> ExitCode {
    match run() {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
