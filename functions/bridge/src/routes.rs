//! `BRIDGE_ROUTES`: which stage goes to which URL, as `stage=url` pairs separated by commas,
//! e.g. `fn-reply=https://abc.lambda-url.eu-west-1.on.aws/invoke,fn-image=http://image/invoke`.
//! Stages are named as their functions are; each may appear once.

use runtime::nats::topology::{STAGES, StageSpec};

/// One stage and where its function listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The stage (its durable consumer).
    pub stage: StageSpec,
    /// The function's `/invoke` URL.
    pub url: String,
}

/// Parses the routes, or lists every problem with them.
pub fn parse(spec: &str) -> Result<Vec<Route>, Vec<String>> {
    let mut routes: Vec<Route> = Vec::new();
    let mut problems = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((name, url)) = part.split_once('=') else {
            problems.push(format!("BRIDGE_ROUTES entry {part:?} is not `stage=url`"));
            continue;
        };
        let (name, url) = (name.trim(), url.trim());
        let Some(stage) = STAGES.iter().find(|s| s.name == name) else {
            let known: Vec<_> = STAGES.iter().map(|s| s.name).collect();
            problems.push(format!(
                "BRIDGE_ROUTES names {name:?}, not a stage (stages: {})",
                known.join(", ")
            ));
            continue;
        };
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            problems.push(format!(
                "BRIDGE_ROUTES URL for {name} must start with http:// or https://"
            ));
            continue;
        }
        if routes.iter().any(|r| r.stage == *stage) {
            problems.push(format!("BRIDGE_ROUTES names {name} twice"));
            continue;
        }
        routes.push(Route {
            stage: *stage,
            url: url.to_owned(),
        });
    }
    if routes.is_empty() && problems.is_empty() {
        problems.push("BRIDGE_ROUTES names no stage".to_owned());
    }
    match problems.is_empty() {
        true => Ok(routes),
        false => Err(problems),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use runtime::nats::topology::{IMAGE_STAGE, REPLY_STAGE};

    #[test]
    fn routes_parse_and_every_problem_is_listed() {
        let r = parse(" fn-reply=https://a/invoke , fn-image=http://b:9000/invoke,").unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].stage, REPLY_STAGE);
        assert_eq!(r[1].stage, IMAGE_STAGE);
        assert_eq!(r[1].url, "http://b:9000/invoke");
        let e =
            parse("fn-reply=https://a,fn-reply=https://b,fn-ingress=https://c,x,fn-send=ftp://d")
                .unwrap_err();
        assert_eq!(e.len(), 4, "{e:?}");
        assert!(e[0].contains("twice") && e[1].contains("fn-ingress") && e[2].contains("\"x\""));
        assert!(e[3].contains("fn-send"));
        assert!(parse(" , ").is_err());
    }
}
