//! `newsflow bench encoder`: the base encoder alone over the sentences of real articles, batched
//! as the taggers batch them (sorted by length, at most 512 padded word pieces a batch), all
//! articles together or each on its own, in word pieces per CPU second. It is the yardstick for
//! other ways of running the same layers (onnxruntime in f32 and 8 bits through
//! `scripts/onnx-int8-probe.py`, which reads the batches this command writes, so both time the
//! same inputs).

use anyhow::Context;
use clap::Args;
use newsflow_nlp::Doc;
use newsflow_nlp::Stage;
use newsflow_nlp::encoder::{Encoder, WordPieceTokenizer, length_batches, pad_ids};
use newsflow_nlp::tokenize::Tokenizer;
use std::io::Write;
use std::path::PathBuf;

/// Word pieces of one input, [CLS] and [SEP] included, as the NER tagger's windows.
const MAX_PIECES: usize = 128;

/// Arguments of `newsflow bench encoder`.
#[derive(Args)]
pub struct EncoderBenchArgs {
    /// CSV of articles with a header `text,category`.
    #[arg(long, default_value = "../shared/data/bbc/val.csv")]
    csv: PathBuf,
    /// Base encoder directory.
    #[arg(long, default_value = "models/base/all-MiniLM-L6-v2")]
    base_model: PathBuf,
    /// Run only the lowest this many layers (all when not given).
    #[arg(long)]
    layers: Option<usize>,
    /// Compute as 8-bit integer inference would (`Dense::quantize_int8`: in f32, so this
    /// times nothing useful; it writes the states the probe compares its 8-bit graph with).
    #[arg(long)]
    int8: bool,
    /// Padded word pieces per batch.
    #[arg(long, default_value_t = 512)]
    batch_tokens: usize,
    /// Batch each article's sentences on their own (as a stage does today) instead of all
    /// articles' sentences together (as a stage could with a backlog).
    #[arg(long)]
    per_article: bool,
    /// Only the first this many articles.
    #[arg(long, default_value_t = 50)]
    limit: usize,
    /// Timed runs over the batches; the median is reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Write the batches (`batches.jsonl`: one JSON array of id arrays per line) and the
    /// first batch's output states (`first-batch.f32`: little-endian f32, `[batch, len,
    /// hidden]`) into this directory, for the onnxruntime probe.
    #[arg(long)]
    write_batches: Option<PathBuf>,
}

/// Times the encoder and prints one line per figure.
pub fn run(args: &EncoderBenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.runs > 0, "--runs must be at least 1");
    let tokenizer = WordPieceTokenizer::load(&args.base_model)?;
    let (cls, sep) = (tokenizer.token_id("[CLS]")?, tokenizer.token_id("[SEP]")?);
    let mut encoder = Encoder::load(&args.base_model)?;
    let layers = args.layers.unwrap_or(encoder.layers.len());
    anyhow::ensure!(
        (1..=encoder.layers.len()).contains(&layers),
        "--layers must be between 1 and {}",
        encoder.layers.len()
    );
    encoder.layers.truncate(layers);
    if args.int8 {
        encoder.quantize_int8()?;
    }

    let mut articles = crate::bench::read_csv(&args.csv)?;
    articles.truncate(args.limit);
    // Each article's sentences as word-piece ids, sorted by length.
    let mut per_article = Vec::new();
    let mut words = 0usize;
    for text in &articles {
        let mut doc = Doc::new(&newsflow_analysis::normalize(text));
        Tokenizer.process(&mut doc)?;
        words += doc.tokens.len();
        let mut inputs = Vec::new();
        for sentence in &doc.sentences {
            let mut ids = vec![cls];
            let pieces = tokenizer.pieces(doc.span_text(sentence.span))?;
            ids.extend(pieces.iter().map(|p| p.id).take(MAX_PIECES - 2));
            ids.push(sep);
            inputs.push(ids);
        }
        inputs.sort_by_key(Vec::len);
        per_article.push(inputs);
    }
    let sentences: usize = per_article.iter().map(Vec::len).sum();
    let pooled: Vec<Vec<u32>>;
    let batches = if args.per_article {
        per_article
            .iter()
            .flat_map(|inputs| batch_by_length(inputs, args.batch_tokens))
            .collect()
    } else {
        pooled = {
            let mut all = per_article.concat();
            all.sort_by_key(Vec::len);
            all
        };
        batch_by_length(&pooled, args.batch_tokens)
    };
    anyhow::ensure!(
        !batches.is_empty(),
        "no sentences in the first {} articles of {}",
        args.limit,
        args.csv.display()
    );
    let pieces: usize = batches.iter().flatten().map(|i| i.len()).sum();
    let padded: usize = batches.iter().map(|b| b.len() * b[b.len() - 1].len()).sum();
    let tensors = batches
        .iter()
        .map(|b| pad_ids(b, encoder.device()))
        .collect::<Result<Vec<_>, _>>()?;

    if let Some(dir) = &args.write_batches {
        let (ids, mask) = &tensors[0];
        let states = encoder.forward_lower(ids, mask, layers)?;
        write_batches(dir, &batches, &states.flatten_all()?.to_vec1::<f32>()?)?;
    }

    let mut cpu = Vec::new();
    for _ in 0..args.runs {
        let started = crate::bench::cpu_seconds().context("no /proc/self/stat")?;
        for (ids, mask) in &tensors {
            encoder.forward_lower(ids, mask, layers)?;
        }
        cpu.push(crate::bench::cpu_seconds().context("no /proc/self/stat")? - started);
    }
    let cpu = crate::bench::median(cpu);
    println!(
        "encoder: {layers} layers, {} weights; {} articles, {words} words, {} sentences, {pieces} word pieces ({padded} padded) in {} batches of {}; {} thread(s), median of {} runs",
        if args.int8 {
            "8-bit rounding simulated in f32 (for quality, not speed)"
        } else {
            "f32"
        },
        articles.len(),
        sentences,
        batches.len(),
        if args.per_article {
            "one article's sentences"
        } else {
            "all articles' sentences"
        },
        crate::bench::threads(),
        args.runs
    );
    println!(
        "{cpu:.3} CPU s: {:.0} word pieces, {:.0} words per CPU second",
        pieces as f64 / cpu,
        words as f64 / cpu
    );
    Ok(())
}

/// The length-sorted inputs in batches of at most `tokens` padded pieces.
fn batch_by_length(inputs: &[Vec<u32>], tokens: usize) -> Vec<Vec<&[u32]>> {
    let lengths: Vec<usize> = inputs.iter().map(Vec::len).collect();
    length_batches(&lengths, tokens)
        .into_iter()
        .map(|range| inputs[range].iter().map(Vec::as_slice).collect())
        .collect()
}

fn write_batches(
    dir: &std::path::Path,
    batches: &[Vec<&[u32]>],
    first_batch_states: &[f32],
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut lines = std::io::BufWriter::new(std::fs::File::create(dir.join("batches.jsonl"))?);
    for batch in batches {
        serde_json::to_writer(&mut lines, batch)?;
        lines.write_all(b"\n")?;
    }
    lines.flush()?;
    let bytes: Vec<u8> = first_batch_states
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    std::fs::write(dir.join("first-batch.f32"), bytes)?;
    Ok(())
}
