//! The entity stage on the bus: `article.ingested` in, entities added, `article.extracted` out.

use std::sync::Arc;

use newsflow_analysis::{AnalysisError, EntityAnalysis};
use newsflow_bus::topology::ARTICLE_EXTRACTED;
use newsflow_proto::v1::AnalyzedArticle;
use newsflow_runtime::{AnalysisStage, CpuSlots, Stage};

/// The stage: the entity analysis of each article, on a CPU slot, up to `batch_articles` of
/// them in one call under a backlog.
pub fn extract(analysis: Arc<EntityAnalysis>, cpu: CpuSlots, batch_articles: usize) -> impl Stage {
    let version = analysis.version().to_owned();
    AnalysisStage::new(
        "extractor",
        ARTICLE_EXTRACTED,
        version,
        cpu,
        move |articles: &mut [AnalyzedArticle]| -> Vec<Result<(), AnalysisError>> {
            analysis.apply_many(articles)
        },
    )
    .batches_of(batch_articles)
}
