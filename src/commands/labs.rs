//! `snaplab labs`: the labs this snaplab can run.

use std::process::ExitCode;

use snaplab_lab::Catalog;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// One JSON object per lab instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let catalog = Catalog::load()?;
    for lab in catalog.labs() {
        if args.json {
            let steps: Vec<serde_json::Value> = lab
                .steps
                .iter()
                .map(|s| serde_json::json!({ "id": s.id, "title": s.title, "hands_on": s.hands_on }))
                .collect();
            println!(
                "{}",
                serde_json::json!({ "id": lab.id, "title": lab.title, "summary": lab.summary, "minutes": lab.minutes, "steps": steps, "targets": lab.targets })
            );
        } else {
            println!("{}  ({} min)\n  {}\n  {}", lab.id, lab.minutes, lab.title, lab.summary);
            for (i, s) in lab.steps.iter().enumerate() {
                println!("    {}. {}", i + 1, s.title);
            }
            println!("  Run it: snaplab run {}", lab.id);
        }
    }
    Ok(ExitCode::SUCCESS)
}
