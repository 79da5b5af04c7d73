"""mmreport -- the work behind reports/report.py: load, group, plot and write report.md."""
