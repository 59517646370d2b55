//! Load and latency benchmarks (issue 7). See BENCHMARKS.md.
fn main() -> anyhow::Result<()> {
    anyhow::bail!("no benchmark scenarios yet: see BENCHMARKS.md")
}
