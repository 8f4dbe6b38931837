"""The payments services: collection, notifications, staff actions, refunds,
direct-debit batches and customer notices. Views, tasks and the admin call these;
nothing else writes payments rows."""
