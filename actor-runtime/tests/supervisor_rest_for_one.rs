//! `rest_for_one`: crashing each child in turn restarts exactly the children OTP would, in
//! OTP's order (checked against the reference model in `common::supervision::expected`).

mod common;

use actor_runtime::Strategy;
use actor_runtime::prelude::*;
use common::supervision::{Journal, Worker, crash_each_child_in_turn, expected};

crash_each_child_in_turn!(
    rest_for_one_restarts_exactly_the_children_the_strategy_names,
    rest_for_one,
    RestForOne,
    "rest_for_one"
);
