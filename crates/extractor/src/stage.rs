//! The entity stage on the bus: `article.ingested` in, entities added, `article.extracted` out.

use std::sync::Arc;

use newsflow_analysis::{AnalysisError, EntityAnalysis};
use newsflow_bus::topology::ARTICLE_EXTRACTED;
use newsflow_proto::v1::AnalyzedArticle;
use newsflow_runtime::{AnalysisStage, CpuSlots, Stage};

/// The stage: the entity analysis of each article, on a CPU slot.
pub fn extract(analysis: Arc<EntityAnalysis>, cpu: CpuSlots) -> impl Stage {
    let version = analysis.version().to_owned();
    AnalysisStage::new(
        "extractor",
        ARTICLE_EXTRACTED,
        version,
        cpu,
        move |article: &mut AnalyzedArticle| -> Result<(), AnalysisError> {
            analysis.apply(article)
        },
    )
}
