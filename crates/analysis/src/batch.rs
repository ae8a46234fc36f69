//! Several articles through one part of the analysis at once, for a stage with a backlog: the
//! models read all their sentences or targets in shared batches, which fill the encoder better
//! than one article's alone (see BENCHMARKS.md). Each article still gets its own result.

use newsflow_proto::v1::AnalyzedArticle;

use crate::AnalysisError;

/// Analyses `articles` together where it works, each alone where it does not.
///
/// `input` takes from each article what the analysis reads (an article it refuses fails alone,
/// at once); `analyse` runs over the inputs of the others together, returning one output per
/// input, in order; `finish` writes each output into its article. When the call over several
/// inputs fails (one article's error or the earliest deadline fails the whole call), each of
/// them is analysed again alone, so an article fails only for what it does itself. That retry
/// costs at most one more analysis of each article of the batch.
pub(crate) fn together_or_alone<I, O>(
    articles: &mut [AnalyzedArticle],
    input: impl Fn(&AnalyzedArticle) -> Result<I, AnalysisError>,
    analyse: impl Fn(&[I]) -> Result<Vec<O>, AnalysisError>,
    finish: impl Fn(&mut AnalyzedArticle, O),
) -> Vec<Result<(), AnalysisError>> {
    let mut results: Vec<Result<(), AnalysisError>> = Vec::with_capacity(articles.len());
    let (mut ready, mut inputs) = (Vec::new(), Vec::new());
    for (index, article) in articles.iter().enumerate() {
        match input(article) {
            Ok(read) => {
                ready.push(index);
                inputs.push(read);
                results.push(Ok(()));
            }
            Err(error) => results.push(Err(error)),
        }
    }
    if inputs.len() > 1
        && let Ok(outputs) = outputs_of(&analyse, &inputs)
    {
        for (index, output) in ready.into_iter().zip(outputs) {
            finish(&mut articles[index], output);
        }
        return results;
    }
    for (index, read) in ready.into_iter().zip(inputs) {
        results[index] = outputs_of(&analyse, std::slice::from_ref(&read)).map(|outputs| {
            outputs
                .into_iter()
                .for_each(|o| finish(&mut articles[index], o))
        });
    }
    results
}

/// `analyse` of `inputs`, checked to give one output per input.
fn outputs_of<I, O>(
    analyse: &impl Fn(&[I]) -> Result<Vec<O>, AnalysisError>,
    inputs: &[I],
) -> Result<Vec<O>, AnalysisError> {
    let outputs = analyse(inputs)?;
    if outputs.len() != inputs.len() {
        return Err(AnalysisError::Invalid(format!(
            "the analysis of {} articles gave {} results",
            inputs.len(),
            outputs.len()
        )));
    }
    Ok(outputs)
}

#[cfg(test)]
mod tests {
    use newsflow_proto::v1::Article;

    use super::*;

    fn article(body: &str) -> AnalyzedArticle {
        AnalyzedArticle {
            article: Some(Article {
                body: body.into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// The body's length, failing any call that includes a body saying "fail", the way one
    /// article's deadline fails a shared batch; `calls` counts the calls and their sizes.
    fn lengths(
        calls: &std::cell::RefCell<Vec<usize>>,
    ) -> impl Fn(&[String]) -> Result<Vec<usize>, AnalysisError> + '_ {
        move |bodies: &[String]| {
            calls.borrow_mut().push(bodies.len());
            if bodies.iter().any(|b| b.contains("fail")) {
                return Err(AnalysisError::Invalid("failed".into()));
            }
            Ok(bodies.iter().map(String::len).collect())
        }
    }

    fn body_of(article: &AnalyzedArticle) -> Result<String, AnalysisError> {
        crate::entities::body(article).map(str::to_owned)
    }

    fn write_length(article: &mut AnalyzedArticle, length: usize) {
        if let Some(a) = article.article.as_mut() {
            a.title = length.to_string();
        }
    }

    fn titles(articles: &[AnalyzedArticle]) -> Vec<String> {
        articles
            .iter()
            .map(|a| {
                a.article
                    .as_ref()
                    .map(|a| a.title.clone())
                    .unwrap_or_default()
            })
            .collect()
    }

    #[test]
    fn articles_that_work_together_are_analysed_in_one_call() {
        let calls = std::cell::RefCell::new(Vec::new());
        let mut articles = vec![article("one"), article("three"), article("seven!!")];
        let results = together_or_alone(&mut articles, body_of, lengths(&calls), write_length);
        assert!(results.iter().all(Result::is_ok));
        assert_eq!(titles(&articles), ["3", "5", "7"]);
        assert_eq!(*calls.borrow(), [3]);
    }

    #[test]
    fn an_article_that_fails_the_batch_fails_alone_and_the_others_pass() {
        let calls = std::cell::RefCell::new(Vec::new());
        let mut articles = vec![
            article("one"),
            article("fail"),
            article("   "),
            article("xy"),
        ];
        let results = together_or_alone(&mut articles, body_of, lengths(&calls), write_length);
        assert!(results[0].is_ok() && results[3].is_ok());
        assert!(
            results[1]
                .as_ref()
                .is_err_and(|e| e.to_string() == "failed")
        );
        assert!(
            results[2]
                .as_ref()
                .is_err_and(|e| e.to_string().contains("empty"))
        );
        assert_eq!(titles(&articles), ["3", "", "", "2"]);
        // The empty body never reaches the models; the batch of three fails, then each alone.
        assert_eq!(*calls.borrow(), [3, 1, 1, 1]);
    }

    #[test]
    fn a_single_article_is_analysed_once() {
        let calls = std::cell::RefCell::new(Vec::new());
        let mut articles = vec![article("fail")];
        let results = together_or_alone(&mut articles, body_of, lengths(&calls), write_length);
        assert!(results[0].is_err());
        assert_eq!(*calls.borrow(), [1]);
    }
}
