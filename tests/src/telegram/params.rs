//! Reads Bot API call parameters the three ways Telegram accepts them: JSON body,
//! form-urlencoded (or query string), and multipart with file uploads. Nested objects sent as
//! strings (multipart `reply_markup`) are parsed back into JSON; uploads are saved to disk.

use std::path::Path;

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use serde_json::{Map, Value};

/// Parameters of one call, or a Telegram-style error description.
pub async fn read(
    req: Request,
    files_dir: &Path,
    seq: usize,
) -> Result<Map<String, Value>, String> {
    let ctype = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let mut params = Map::new();
    if let Some(q) = req.uri().query() {
        for (k, v) in form_urlencoded(q) {
            params.insert(k, typed(&v));
        }
    }
    if ctype.starts_with("multipart/form-data") {
        let mut mp = Multipart::from_request(req, &())
            .await
            .map_err(|e| format!("Bad Request: {e}"))?;
        while let Some(field) = mp
            .next_field()
            .await
            .map_err(|e| format!("Bad Request: {e}"))?
        {
            let name = field.name().unwrap_or_default().to_owned();
            let file_name = field.file_name().map(str::to_owned);
            let bytes = field
                .bytes()
                .await
                .map_err(|e| format!("Bad Request: {e}"))?;
            let value = match file_name {
                Some(f) => save(files_dir, seq, &name, &f, &bytes)?,
                None => typed(&String::from_utf8_lossy(&bytes)),
            };
            params.insert(name, value);
        }
        resolve_attachments(&mut params);
    } else {
        let body = axum::body::to_bytes(req.into_body(), 64 << 20)
            .await
            .map_err(|e| format!("Bad Request: {e}"))?;
        if ctype.starts_with("application/json") && !body.is_empty() {
            let v: Value = serde_json::from_slice(&body)
                .map_err(|_| "Bad Request: can't parse JSON".to_owned())?;
            params.extend(v.as_object().cloned().unwrap_or_default());
        } else if !body.is_empty() {
            for (k, v) in form_urlencoded(&String::from_utf8_lossy(&body)) {
                params.insert(k, typed(&v));
            }
        }
    }
    Ok(params)
}

/// `"photo": "attach://<part>"` refers to an uploaded part by name, as the Bot API allows.
fn resolve_attachments(params: &mut Map<String, Value>) {
    let refs: Vec<(String, String)> = params
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.strip_prefix("attach://")?.to_owned())))
        .collect();
    for (key, part) in refs {
        if let Some(file) = params.remove(&part) {
            params.insert(key, file);
        }
    }
}

fn save(
    dir: &Path,
    seq: usize,
    field: &str,
    file_name: &str,
    bytes: &[u8],
) -> Result<Value, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("Internal: {e}"))?;
    let safe: String = file_name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
        .collect();
    let path = dir.join(format!("{seq:05}-{field}-{safe}"));
    std::fs::write(&path, bytes).map_err(|e| format!("Internal: {e}"))?;
    Ok(
        serde_json::json!({"file_name": file_name, "size": bytes.len(), "path": path.display().to_string()}),
    )
}

/// Strings that hold JSON objects/arrays or numbers become JSON again.
fn typed(s: &str) -> Value {
    let t = s.trim();
    if (t.starts_with('{') || t.starts_with('[') || t.parse::<f64>().is_ok())
        && let Ok(v) = serde_json::from_str(t)
    {
        return v;
    }
    Value::String(s.to_owned())
}

fn form_urlencoded(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(
                    std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or(""),
                    16,
                ) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urlencoded_values_decode_and_type() {
        let p = form_urlencoded("chat_id=42&text=hi+there%21&reply_markup=%7B%22a%22%3A1%7D");
        assert_eq!(p[1].1, "hi there!");
        assert_eq!(typed(&p[0].1), serde_json::json!(42));
        assert_eq!(typed(&p[2].1), serde_json::json!({"a": 1}));
    }
}
