//! The book
