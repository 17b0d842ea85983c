//! IBAN (ISO 13616), the account of a recipient organisation. Parsed with the `iban_validate` crate: the check digits
//! (ISO 7064 mod 97-10) and each country's length and BBAN format come from the SWIFT IBAN registry, a dataset that
//! changes as countries join or change their formats and that the crate keeps current; a hand-written table would
//! quietly age.

use std::fmt;

/// The longest IBAN any country uses (ISO 13616: two letters, two check digits, up to 30 characters).
pub const MAX_CHARS: usize = 34;

/// The longest IBAN the API accepts as input: the print format's groups of four, with room for extra spaces.
pub const MAX_INPUT_CHARS: usize = 50;

/// The shape of a stored IBAN (electronic format, upper case), as the database's CHECK and the OpenAPI document
/// state it. Necessary, not sufficient: the check digits and the country's format are checked by [`Iban::parse`].
pub const PATTERN: &str = "^[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}$";

/// What the API accepts as input: the electronic or the print format in either case, spaces anywhere (they are
/// removed), in at most [`MAX_INPUT_CHARS`] characters. Every input [`Iban::parse`] accepts matches it.
pub const INPUT_PATTERN: &str = "^ *[A-Za-z] *[A-Za-z] *[0-9] *[0-9]( *[A-Za-z0-9]){1,30} *$";

/// A valid IBAN in electronic format: upper case, no spaces (`DE89370400440532013000`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Iban(String);

/// Why a text is not an IBAN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IbanError {
    /// Not two letters, two digits and up to 30 letters or digits.
    Format,
    /// The check digits do not match the rest.
    Checksum,
    /// The country is not in the IBAN registry.
    UnknownCountry,
    /// The length or the format of the account part is not the one of its country.
    CountryFormat,
}

impl IbanError {
    /// A stable name of the reason (the key of its message).
    pub fn key(self) -> &'static str {
        match self {
            IbanError::Format => "format",
            IbanError::Checksum => "checksum",
            IbanError::UnknownCountry => "country",
            IbanError::CountryFormat => "country_format",
        }
    }
}

impl Iban {
    /// Reads an IBAN in electronic or print format: spaces are removed and letters upper-cased first, so
    /// `de89 3704 0044 0532 0130 00` is `DE89370400440532013000`.
    pub fn parse(input: &str) -> Result<Self, IbanError> {
        let electronic: String = input
            .chars()
            .filter(|c| *c != ' ')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let shape = electronic.len() >= 5
            && electronic.len() <= MAX_CHARS
            && electronic.bytes().take(2).all(|b| b.is_ascii_uppercase())
            && electronic.bytes().skip(2).take(2).all(|b| b.is_ascii_digit())
            && electronic.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if !shape {
            return Err(IbanError::Format);
        }
        match electronic.parse::<iban::Iban>() {
            Ok(_) => Ok(Self(electronic)),
            Err(iban::ParseIbanError::InvalidBaseIban {
                source: iban::ParseBaseIbanError::InvalidChecksum,
            }) => Err(IbanError::Checksum),
            Err(iban::ParseIbanError::InvalidBaseIban { .. }) => Err(IbanError::Format),
            Err(iban::ParseIbanError::UnknownCountry(_)) => Err(IbanError::UnknownCountry),
            Err(iban::ParseIbanError::InvalidBban(_)) => Err(IbanError::CountryFormat),
        }
    }

    /// The electronic format: upper case, no spaces.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Iban {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn print_format_and_case_are_normalised() {
        for input in [
            "DE89370400440532013000",
            "DE89 3704 0044 0532 0130 00",
            "de89 3704 0044 0532 0130 00",
            " DE89  370400440532013000 ",
        ] {
            assert_eq!(
                Iban::parse(input).map(|i| i.0),
                Ok("DE89370400440532013000".into()),
                "{input:?}"
            );
        }
        assert!(Iban::parse("GB82 WEST 1234 5698 7654 32").is_ok());
        assert!(Iban::parse("FR14 2004 1010 0505 0001 3M02 606").is_ok());
    }

    #[test]
    fn every_reason() {
        let cases = [
            ("DE88370400440532013000", IbanError::Checksum),
            // A right check digit for a German IBAN one digit short.
            ("DE5137040044053201300", IbanError::CountryFormat),
            // A right check digit, but the United States use no IBAN.
            ("US411234567890123", IbanError::UnknownCountry),
            ("", IbanError::Format),
            ("DE89", IbanError::Format),
            ("D189370400440532013000", IbanError::Format),
            ("DE8937040044053201300-", IbanError::Format),
            ("DE89\t370400440532013000", IbanError::Format),
            ("DE89370400440532013000123456789012345", IbanError::Format),
        ];
        for (input, reason) in cases {
            assert_eq!(Iban::parse(input), Err(reason), "{input:?}");
        }
    }

    /// The stated patterns agree with the parser: the input pattern matches exactly what it refuses for no reason
    /// but the shape, and what it accepts, normalised, matches the stored pattern.
    #[test]
    fn the_stated_patterns_agree_with_the_parser() {
        let input = regex::Regex::new(INPUT_PATTERN).unwrap();
        let stored = regex::Regex::new(PATTERN).unwrap();
        let alphabet: Vec<char> = "DE89370 4aZx-\t".chars().collect();
        let mut seed: u64 = 7;
        let mut next = move |bound: usize| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((seed >> 33) as usize) % bound
        };
        let mut samples: Vec<String> = vec![
            "DE89 3704 0044 0532 0130 00".into(),
            "de89370400440532013000".into(),
            "GB82WEST12345698765432".into(),
        ];
        for _ in 0..50_000 {
            let len = next(40);
            samples.push((0..len).map(|_| alphabet[next(alphabet.len())]).collect());
        }
        // Mostly valid German IBANs with one character changed, so that accepted samples are many.
        for _ in 0..5_000 {
            let mut chars: Vec<char> = "DE89 3704 0044 0532 0130 00".chars().collect();
            let at = next(chars.len());
            chars[at] = alphabet[next(alphabet.len())];
            samples.push(chars.into_iter().collect());
        }
        let mut accepted = 0;
        for sample in &samples {
            let parsed = Iban::parse(sample);
            let shaped = parsed != Err(IbanError::Format);
            assert_eq!(input.is_match(sample), shaped, "{sample:?}: {parsed:?}");
            if let Ok(iban) = parsed {
                accepted += 1;
                assert!(stored.is_match(iban.as_str()), "{sample:?}");
            }
        }
        assert!(accepted > 10, "{accepted} accepted");
    }
}
