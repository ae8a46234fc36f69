//! The stance stage on the bus: `article.extracted` in, statements, stances and summaries
//! added, `article.classified` out.

use std::sync::Arc;

use newsflow_analysis::{AnalysisError, StanceAnalysis};
use newsflow_bus::topology::ARTICLE_CLASSIFIED;
use newsflow_proto::v1::AnalyzedArticle;
use newsflow_runtime::{AnalysisStage, CpuSlots, Stage};

/// The stage: the stance analysis of each article, on a CPU slot, up to `batch_articles` of
/// them in one call under a backlog.
pub fn classify(analysis: Arc<StanceAnalysis>, cpu: CpuSlots, batch_articles: usize) -> impl Stage {
    let version = analysis.version().to_owned();
    AnalysisStage::new(
        "stance",
        ARTICLE_CLASSIFIED,
        version,
        cpu,
        move |articles: &mut [AnalyzedArticle]| -> Vec<Result<(), AnalysisError>> {
            analysis.apply_many(articles)
        },
    )
    .batches_of(batch_articles)
}
