//! `convo-tui bench`: load scenarios that print figures.
