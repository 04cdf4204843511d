//! Splitting parties into two teams without breaking a party up.

/// Team number (1 or 2) for each party, by index, balancing head counts:
/// largest parties first, each into the team with fewer players (team 1 on
/// a tie).
pub fn balance(sizes: &[u32]) -> Vec<i64> {
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(sizes[i]), i));
    let mut totals = [0u32; 2];
    let mut teams = vec![1; sizes.len()];
    for i in order {
        let team = if totals[0] <= totals[1] { 0 } else { 1 };
        totals[team] += sizes[i];
        teams[i] = team as i64 + 1;
    }
    teams
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totals(sizes: &[u32], teams: &[i64]) -> (u32, u32) {
        let mut t = (0, 0);
        for (s, team) in sizes.iter().zip(teams) {
            if *team == 1 {
                t.0 += s
            } else {
                t.1 += s
            }
        }
        t
    }

    #[test]
    fn parties_stay_whole_and_teams_balance() {
        let sizes = [3, 1, 1, 1, 1, 1];
        let teams = balance(&sizes);
        assert_eq!(totals(&sizes, &teams), (4, 4));
        assert_eq!(balance(&[1, 1]), vec![1, 2]);
        assert_eq!(balance(&[1]), vec![1]);
        let sizes = [2, 2, 2, 1, 1];
        let (a, b) = totals(&sizes, &balance(&sizes));
        assert!(a.abs_diff(b) <= 1);
    }

    proptest::proptest! {
        #[test]
        fn never_worse_than_the_largest_party(sizes in proptest::collection::vec(1u32..5, 1..12)) {
            let teams = balance(&sizes);
            let (a, b) = totals(&sizes, &teams);
            let largest = *sizes.iter().max().unwrap();
            proptest::prop_assert!(a.abs_diff(b) <= largest);
            proptest::prop_assert!(teams.iter().all(|t| *t == 1 || *t == 2));
        }
    }
}
