//! The ComfyUI workflow file (API format) with a job's values in place of its placeholders:
//! `{{prompt}}`, `{{negative_prompt}}`, `{{seed}}`, `{{width}}`, `{{height}}`, `{{steps}}`,
//! `{{cfg}}`.

use companion::jobs::ImageJob;
use serde_json::Value;

/// The workflow with the job's values in place of the placeholders: a string that is exactly
/// a placeholder becomes the value (a number stays a number); a placeholder inside a longer
/// string is replaced as text.
pub fn fill(workflow: &Value, job: &ImageJob, steps: u32, cfg: f32) -> Value {
    let values: [(&str, Value); 7] = [
        ("{{prompt}}", job.prompt.clone().into()),
        ("{{negative_prompt}}", job.negative_prompt.clone().into()),
        ("{{seed}}", job.seed.unsigned_abs().into()),
        ("{{width}}", job.width.into()),
        ("{{height}}", job.height.into()),
        ("{{steps}}", steps.into()),
        ("{{cfg}}", f64::from(cfg).into()),
    ];
    walk(workflow, &values)
}

fn walk(v: &Value, values: &[(&str, Value)]) -> Value {
    match v {
        Value::String(s) => {
            if let Some((_, val)) = values.iter().find(|(k, _)| k == s) {
                return val.clone();
            }
            let mut out = s.clone();
            for (k, val) in values {
                if out.contains(k) {
                    let text = val
                        .as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| val.to_string());
                    out = out.replace(k, &text);
                }
            }
            Value::String(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| walk(x, values)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), walk(x, values)))
                .collect(),
        ),
        other => other.clone(),
    }
}
